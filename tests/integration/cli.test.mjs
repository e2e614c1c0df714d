// The command-line client `rap` (cli/, docs/cli.md) against the real stack:
// an upload watched to COMPLETED, Ctrl-C and SIGKILL then a rerun that
// resumes, a link that is cut or stalls mid-PATCH, a Retry-After honoured,
// https and wss through a TLS front with a private CA (--cacert),
// a file changed under a resumed upload (integrity), the exit codes of
// FAILED, DEAD and CANCELLED jobs, refusals (422, 401) that are not
// retried, usage errors and --help.
// Slow links are a throttling proxy in this process; every wait polls a
// condition with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { GATEWAY, auth, getJob, randomBytes, sha256, waitFor } from './helpers.mjs';
import { MiB, linkProxy, progressLines, rap, stateFiles, tempDir, tusOffset } from './cli-helpers.mjs';

const JOB_LINE = /^job_id ([0-9a-f-]{36})$/m;

// A test's folder with a random file of n bytes (text when asked) in it.
function fixture(t, n, { text = false } = {}) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = text ? Buffer.from('a line of text for test.fault\n'.repeat(Math.ceil(n / 30)).slice(0, n))
    : randomBytes(n);
  const file = path.join(dir, text ? 'input.txt' : 'data.bin');
  fs.writeFileSync(file, data);
  return { dir, file, data, state: path.join(dir, 'state') };
}

// GET /api/uploads/{id} of a tus upload URL, or of a job's object.
async function uploadInfo({ url, job }) {
  const id = url ? new URL(url).pathname.split('/').pop() : job.object_key.split('/').pop();
  return (await fetch(`${GATEWAY}/api/uploads/${id}`, { headers: auth() })).json();
}

// Waits until the run's recorded upload has at least `min` bytes stored.
async function storedAtLeast(state, min) {
  return waitFor(`an upload in ${state} with ${min} bytes stored`, async () => {
    const [rec] = stateFiles(state);
    if (!rec?.upload_url) return false;
    const off = await tusOffset(rec.upload_url);
    return off >= min && { rec, off };
  }, 30000, 50);
}

test('rap upload --watch: progress lines, job id, COMPLETED with the file\'s sha256, exit 0', async (t) => {
  const f = fixture(t, 20 * MiB + 4321);
  const run = rap(['upload', f.file, '--type', 'file.inspect', '--watch', '--url', GATEWAY,
    '--state-dir', f.state, '--chunk-size', '8M']);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  const jobId = JOB_LINE.exec(r.stdout)?.[1];
  assert.ok(jobId, `no job_id line in ${r.stdout}`);
  // Transitions, then the result, on stdout (a worker may claim the job
  // before the relay records QUEUED).
  assert.match(r.stdout, new RegExp(`^job ${jobId}: new -> CREATED \\(attempt 0\\)$`, 'm'));
  assert.match(r.stdout, new RegExp(`^job ${jobId}: (CREATED|QUEUED) -> PROCESSING \\(attempt 1\\)`, 'm'));
  assert.match(r.stdout, new RegExp(`^job ${jobId}: PROCESSING -> COMPLETED`, 'm'));
  const result = JSON.parse(/^result (.*)$/m.exec(r.stdout)[1]);
  assert.equal(result.sha256, sha256(f.data));
  const job = (await getJob(jobId)).body;
  assert.equal(job.status, 'COMPLETED');
  assert.equal(job.result.sha256, sha256(f.data));
  assert.equal(job.result.size, f.data.length);
  // stderr is not a terminal: plain progress lines, bytes increasing to the end.
  const lines = progressLines(r.stderr);
  assert.ok(lines.length >= 3, r.stderr);
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i].sent >= lines[i - 1].sent, r.stderr);
  assert.equal(lines.at(-1).sent, f.data.length);
  assert.equal(lines.at(-1).pct, 100);
  assert.ok(lines.every((l) => l.total === f.data.length));
  // The job exists: nothing is left to resume.
  assert.deepEqual(stateFiles(f.state), []);
});

test('rap --watch shows a running job\'s stage, percentage and time left from its progress pushes', async (t) => {
  const f = fixture(t, 256 * 1024);
  const run = rap(['upload', f.file, '--type', 'test.sandbox', '--params', '{"mode":"progress","seconds":6}',
    '--watch', '--url', GATEWAY, '--state-dir', f.state]);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  const jobId = JOB_LINE.exec(r.stdout)?.[1];
  assert.ok(jobId, r.stdout);
  // A line per stage (and at most one every 5 s between), before COMPLETED.
  const progress = r.stdout.split('\n')
    .filter((l) => new RegExp(`^job ${jobId}: (download|parse|validate|write) \\d+%`).test(l));
  assert.ok(progress.length >= 2, r.stdout);
  assert.ok(progress.some((l) => /, done in about \d/.test(l)), r.stdout);
  assert.ok(r.stdout.indexOf(progress[0]) < r.stdout.indexOf(`job ${jobId}: PROCESSING -> COMPLETED`), r.stdout);
});

test('Ctrl-C mid-upload: exit 130, the state stays; the same command resumes at the stored offset', async (t) => {
  const f = fixture(t, 20 * MiB + 777);
  const proxy = await linkProxy({ rate: 4 * MiB });
  t.after(() => proxy.close());
  const args = ['upload', f.file, '--type', 'file.inspect', '--url', proxy.url,
    '--state-dir', f.state, '--chunk-size', '5M'];
  const first = rap(args);
  const { rec, off } = await storedAtLeast(f.state, 1);
  first.child.kill('SIGINT');
  const r1 = await first.done;
  assert.equal(r1.code, 130, r1.stderr);
  assert.match(r1.stderr, /run the same command again to resume/);
  const [kept] = stateFiles(f.state);
  assert.equal(kept?.upload_url, rec.upload_url, 'the state file is kept');
  const stored = await tusOffset(rec.upload_url);
  assert.ok(stored >= off && stored < f.data.length, `stored ${stored}`);

  proxy.rate = 0; // the same link, fast now
  const r2 = await rap(args).done;
  assert.equal(r2.code, 0, r2.stderr);
  const m = /^resuming (\S+) at offset (\d+) \((\d+)%\)$/m.exec(r2.stderr);
  assert.ok(m, r2.stderr);
  assert.equal(m[1], rec.upload_url);
  assert.equal(Number(m[2]), stored);
  assert.ok(Number(m[2]) > 0);
  const info = await uploadInfo({ url: rec.upload_url });
  assert.equal(info.state, 'COMPLETE');
  assert.equal(info.sha256, sha256(f.data));
  const job = (await getJob(JOB_LINE.exec(r2.stdout)[1])).body;
  assert.equal(job.object_key, info.object_key);
  assert.deepEqual(stateFiles(f.state), [], 'the state file is gone once the job exists');
});

test('rap killed with SIGKILL mid-upload: a rerun resumes from the server\'s offset', async (t) => {
  const f = fixture(t, 16 * MiB + 99);
  const proxy = await linkProxy({ rate: 4 * MiB });
  t.after(() => proxy.close());
  const args = ['upload', f.file, '--type', 'file.inspect', '--url', proxy.url,
    '--state-dir', f.state, '--chunk-size', '5M', '--quiet'];
  const first = rap(args);
  const { rec } = await storedAtLeast(f.state, 5 * MiB);
  first.child.kill('SIGKILL');
  await first.done;
  const stored = await tusOffset(rec.upload_url);
  proxy.rate = 0;
  const r2 = await rap(args).done;
  assert.equal(r2.code, 0, r2.stderr);
  const m = /^resuming (\S+) at offset (\d+)/m.exec(r2.stderr);
  assert.ok(m, r2.stderr);
  assert.equal(m[1], rec.upload_url);
  assert.equal(Number(m[2]), stored);
  assert.ok(stored >= 5 * MiB);
  assert.doesNotMatch(r2.stderr, /^progress /m, '--quiet prints no progress');
  const info = await uploadInfo({ url: rec.upload_url });
  assert.equal(info.sha256, sha256(f.data));
});

test('a link cut mid-PATCH: the same run retries, resumes from the stored offset and finishes', async (t) => {
  const f = fixture(t, 20 * MiB + 5);
  const proxy = await linkProxy({ cutAfter: 10 * MiB });
  t.after(() => proxy.close());
  const r = await rap(['upload', f.file, '--type', 'file.inspect', '--url', proxy.url,
    '--state-dir', f.state, '--chunk-size', '4M']).done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(proxy.cut, 'the link was cut');
  assert.match(r.stderr, /^retry: PATCH at offset 8388608: /m);
  // Resumed, not started over: about the file once, plus the cut PATCH's part.
  assert.ok(proxy.upBytes < f.data.length + 3 * MiB, `sent ${proxy.upBytes} bytes`);
  const job = (await getJob(JOB_LINE.exec(r.stdout)[1])).body;
  const info = await uploadInfo({ job });
  assert.equal(info.sha256, sha256(f.data));
});

test('a PATCH answered 503 with Retry-After: 3: the run waits those 3 s, not its own 0.5 s, then finishes', async (t) => {
  const f = fixture(t, 6 * MiB + 1);
  // A gateway in front of the gateway that refuses the first PATCH as a
  // service short of its database does, and passes everything else on.
  const target = new URL(GATEWAY);
  let refused = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'PATCH' && refused === 0) {
      refused++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'Retry-After': '3', 'Tus-Resumable': '1.0.0', 'Content-Type': 'application/problem+json' });
        res.end(JSON.stringify({ type: '/problems/unavailable', title: 'Service unavailable', status: 503,
          detail: 'the database is unavailable; retry', code: 'unavailable', request_id: 'test' }));
      });
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method,
      headers: req.headers }, (ans) => { res.writeHead(ans.statusCode, ans.headers); ans.pipe(res); });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const r = await rap(['upload', f.file, '--type', 'file.inspect', '--url', `http://127.0.0.1:${server.address().port}`,
    '--state-dir', f.state]).done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(refused, 1);
  assert.match(r.stderr, /^retry: PATCH at offset 0: the database is unavailable; retry \(unavailable, HTTP 503\); trying again in 3\.0 s$/m);
  const info = await uploadInfo({ job: (await getJob(JOB_LINE.exec(r.stdout)[1])).body });
  assert.equal(info.sha256, sha256(f.data));
});

test('a job creation answered 429 rate_limited with Retry-After: 2: the run waits those 2 s, then creates the job', async (t) => {
  const f = fixture(t, 1000);
  // A gateway in front of the gateway that refuses the first POST /api/jobs
  // as job-api does past an API key's RAP_JOB_CREATE_RATE.
  const target = new URL(GATEWAY);
  let refused = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/api/jobs' && refused === 0) {
      refused++;
      req.resume();
      req.on('end', () => {
        res.writeHead(429, { 'Retry-After': '2', 'Content-Type': 'application/problem+json' });
        res.end(JSON.stringify({ type: '/problems/rate_limited', title: 'Rate limited', status: 429, detail: 'this API key is creating jobs too fast', code: 'rate_limited', request_id: 'test' }));
      });
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method,
      headers: req.headers }, (ans) => { res.writeHead(ans.statusCode, ans.headers); ans.pipe(res); });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const r = await rap(['upload', f.file, '--type', 'file.inspect', '--url', `http://127.0.0.1:${server.address().port}`,
    '--state-dir', f.state]).done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(refused, 1);
  assert.match(r.stderr, /^retry: POST \S+\/api\/jobs: this API key is creating jobs too fast \(rate_limited, HTTP 429\); trying again in 2\.0 s$/m);
  assert.equal((await getJob(JOB_LINE.exec(r.stdout)[1])).body.object_key.startsWith('uploads/'), true);
});

// A TLS front for the gateway (as an ingress would be), with a certificate
// of its own for localhost; `requests` holds the first line of each request
// it decrypted.
async function tlsFront(t, dir) {
  const key = path.join(dir, 'tls.key');
  const cert = path.join(dir, 'tls.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  { stdio: 'ignore' });
  const target = new URL(GATEWAY);
  const front = { cert, requests: [], sockets: new Set() };
  const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (c) => {
    const up = net.connect(Number(target.port), target.hostname);
    front.sockets.add(c);
    front.sockets.add(up);
    c.on('data', (d) => {
      const line = d.toString('latin1').split('\r\n')[0];
      if (/^[A-Z]+ \S+ HTTP\/1\.1$/.test(line)) front.requests.push(line);
      up.write(d);
    });
    up.pipe(c);
    for (const [a, b] of [[c, up], [up, c]]) {
      a.on('error', () => b.destroy());
      a.on('close', () => { b.destroy(); front.sockets.delete(a); });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  front.url = `https://localhost:${server.address().port}`;
  t.after(() => {
    for (const so of front.sockets) so.destroy();
    server.close();
  });
  return front;
}

test('over https: --cacert trusts a private CA for the API and the wss watch; without it the certificate is refused', async (t) => {
  const f = fixture(t, 3 * MiB + 3);
  const front = await tlsFront(t, f.dir);
  // The system's CAs do not know this certificate: refused at once, not retried.
  const refused = await rap(['upload', f.file, '--type', 'file.inspect', '--url', front.url,
    '--state-dir', f.state]).done;
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /certificate/i);
  assert.doesNotMatch(refused.stderr, /^retry:/m);
  assert.match(refused.stderr, /^hint: .*--cacert FILE/m);
  assert.deepEqual(front.requests, [], 'nothing went over an unverified connection');

  const r = await rap(['upload', f.file, '--type', 'file.inspect', '--watch', '--url', front.url,
    '--state-dir', f.state], { env: { RAP_CACERT: front.cert } }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /-> COMPLETED/);
  assert.ok(front.requests.some((l) => l.startsWith('POST /api/files/ ')), front.requests.join(' | '));
  assert.ok(front.requests.some((l) => l.startsWith('PATCH /api/files/')), front.requests.join(' | '));
  assert.ok(front.requests.some((l) => l.startsWith('GET /ws')), `the watch went over wss: ${front.requests.join(' | ')}`);
  const jobId = JOB_LINE.exec(r.stdout)[1];
  const info = await uploadInfo({ job: (await getJob(jobId)).body });
  assert.equal(info.sha256, sha256(f.data));

  // libwebsockets checks the certificate too: without the CA the wss
  // handshake fails, and the watch ends on the reason instead of retrying.
  const before = front.requests.length;
  const w = await rap(['watch', jobId, '--url', front.url, '--retry-timeout', '60']).done;
  assert.equal(w.code, 1, w.stderr);
  assert.match(w.stderr, /^watch: the WebSocket could not connect \(.*SSL/m);
  assert.match(w.stderr, /^error: .*certificate/m);
  assert.equal(front.requests.length, before, 'nothing went over an unverified connection');
});

test('a link that stalls without closing: --stall-timeout notices, the run retries and finishes', async (t) => {
  const f = fixture(t, 12 * MiB + 12);
  const proxy = await linkProxy({ stallAfter: 6 * MiB });
  t.after(() => proxy.close());
  const started = Date.now();
  const r = await rap(['upload', f.file, '--type', 'file.inspect', '--url', proxy.url,
    '--state-dir', f.state, '--chunk-size', '4M', '--stall-timeout', '2']).done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(proxy.stalled);
  assert.match(r.stderr, /^retry: PATCH at offset 4194304: Operation too slow/m);
  assert.ok(Date.now() - started < 30000, 'noticed in seconds, not at the server timeout');
  const job = (await getJob(JOB_LINE.exec(r.stdout)[1])).body;
  assert.equal((await uploadInfo({ job })).sha256, sha256(f.data));
});

test('the answer to the job creation is lost: the run gives up, the rerun gets the same job', async (t) => {
  const f = fixture(t, 3 * MiB + 3);
  const proxy = await linkProxy({ cutAnswersTo: 'POST /api/jobs ' });
  t.after(() => proxy.close());
  const args = ['upload', f.file, '--type', 'file.inspect', '--url', proxy.url, '--state-dir', f.state,
    '--retry-timeout', '2'];
  const r1 = await rap(args).done;
  assert.equal(r1.code, 1, r1.stderr);
  assert.ok(proxy.answersCut >= 1);
  assert.match(r1.stderr, /^error: gave up after 2 s without progress: POST /m);
  assert.match(r1.stderr, /run the same command again to resume/);
  const [rec] = stateFiles(f.state);
  assert.ok(rec, 'the state file stays until the job is known');
  const objectKey = `uploads/${new URL(rec.upload_url).pathname.split('/').pop()}`;
  const list = await (await fetch(`${GATEWAY}/api/jobs?limit=100`, { headers: auth() })).json();
  const made = list.jobs.filter((j) => j.object_key === objectKey);
  assert.equal(made.length, 1, 'the server made the job though the client never heard');

  proxy.cutAnswersTo = null;
  const r2 = await rap(args).done;
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /^resuming \S+ at offset 3145731 \(100%\)$/m);
  assert.equal(JOB_LINE.exec(r2.stdout)[1], made[0].job_id, 'the same job (Idempotency-Key)');
  const again = await (await fetch(`${GATEWAY}/api/jobs?limit=100`, { headers: auth() })).json();
  assert.equal(again.jobs.filter((j) => j.object_key === objectKey).length, 1, 'no second job');
  assert.deepEqual(stateFiles(f.state), []);
});

test('a file changed under a recorded upload without a new mtime: the sha256 check fails, exit 3', async (t) => {
  const f = fixture(t, 12 * MiB);
  const when = new Date('2024-01-02T03:04:05Z');
  fs.utimesSync(f.file, when, when);
  const proxy = await linkProxy({ rate: 4 * MiB });
  t.after(() => proxy.close());
  const args = ['upload', f.file, '--type', 'file.inspect', '--url', proxy.url,
    '--state-dir', f.state, '--chunk-size', '4M', '--quiet'];
  const first = rap(args);
  await storedAtLeast(f.state, 4 * MiB);
  first.child.kill('SIGINT');
  assert.equal((await first.done).code, 130);
  // Change a byte the server already has; keep size and mtime.
  const fd = fs.openSync(f.file, 'r+');
  fs.writeSync(fd, Buffer.from([f.data[100] ^ 0xff]), 0, 1, 100);
  fs.closeSync(fd);
  fs.utimesSync(f.file, when, when);
  proxy.rate = 0;
  const r = await rap(args).done;
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^resuming /m);
  assert.match(r.stderr, /integrity check failed: the server stored sha256 [0-9a-f]{64}/);
  assert.doesNotMatch(r.stdout, JOB_LINE, 'no job for bytes that are not the file');
  assert.deepEqual(stateFiles(f.state), [], 'a rerun starts over');
});

test('a job that FAILS: --watch prints its error and exits 4', async (t) => {
  const f = fixture(t, 2000, { text: true });
  const r = await rap(['upload', f.file, '--type', 'test.fault', '--params', '{"mode":"permanent"}',
    '--watch', '--url', GATEWAY, '--state-dir', f.state]).done;
  assert.equal(r.code, 4, r.stderr);
  const id = JOB_LINE.exec(r.stdout)[1];
  assert.match(r.stdout, new RegExp(`^job ${id}: PROCESSING -> FAILED \\(attempt 1\\): injected permanent failure$`, 'm'));
  assert.match(r.stdout, new RegExp(`^job ${id} ended FAILED: injected permanent failure$`, 'm'));
});

test('a job that goes DEAD exits 5; a CANCELLED one exits 6; --json prints one object', async (t) => {
  const f = fixture(t, 500, { text: true });
  const dead = await rap(['upload', f.file, '--type', 'test.fault', '--url', GATEWAY,
    '--params', '{"mode":"transient","failures":9}', '--max-attempts', '1', '--watch',
    '--json', '--state-dir', f.state]).done;
  assert.equal(dead.code, 5, dead.stderr);
  const out = JSON.parse(dead.stdout);
  assert.equal(out.status, 'DEAD');
  assert.match(out.error, /injected transient failure/);
  assert.equal(out.size, 500);
  assert.match(dead.stderr, /-> DEAD \(attempt 1\)/, 'with --json the transitions go to stderr');

  const run = rap(['upload', f.file, '--type', 'test.fault', '--url', GATEWAY, '--no-resume',
    '--params', '{"mode":"sleep","seconds":60}', '--watch', '--state-dir', f.state]);
  const id = await waitFor('the job is PROCESSING', () => {
    const m = JOB_LINE.exec(run.stdout);
    return m && /-> PROCESSING/.test(run.stdout) && m[1];
  }, 30000, 50);
  const c = await fetch(`${GATEWAY}/api/jobs/${id}/cancel`, { method: 'POST', headers: auth() });
  assert.equal(c.status, 200);
  const r = await run.done;
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stdout, new RegExp(`^job ${id} ended CANCELLED`, 'm'));
});

test('refusals are not retried: unknown job type (422), wrong API key (401, with a hint)', async (t) => {
  const f = fixture(t, 1000);
  const started = Date.now();
  const unknown = await rap(['upload', f.file, '--type', 'no.such.type', '--url', GATEWAY,
    '--state-dir', f.state]).done;
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: job type 'no\.such\.type' is not one of: .* \(unknown_job_type, HTTP 422\)$/m);
  assert.doesNotMatch(unknown.stderr, /retry/);
  const badKey = await rap(['upload', f.file, '--type', 'file.inspect', '--url', GATEWAY,
    '--api-key', 'wrong-key', '--state-dir', f.state]).done;
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /^error: .*\(unauthorized, HTTP 401\)$/m);
  assert.match(badKey.stderr, /--api-key KEY .*RAP_API_KEY/);
  assert.doesNotMatch(badKey.stderr, /retry/);
  const status = await rap(['status', '00000000-0000-4000-8000-000000000000', '--url', GATEWAY]).done;
  assert.equal(status.code, 1);
  assert.match(status.stderr, /\(not_found, HTTP 404\)/);
  assert.ok(Date.now() - started < 15000, 'no backoff on refusals');
});

test('usage errors exit 2; --help describes every command and exit code', async () => {
  for (const args of [[], ['upload'], ['upload', 'x'], ['upload', 'x', '--type', 'Bad Type'],
    ['upload', 'x', '--type', 'file.inspect', '--chunk-size', '12Q'],
    ['upload', 'x', '--type', 'file.inspect', '--chunk-size', '1K'],
    ['upload', 'x', '--type', 'file.inspect', '--params', '[1]'],
    ['watch', 'not-a-uuid'], ['status', '00000000-0000-4000-8000-000000000000', '--type', 't'],
    ['frobnicate', 'x'], ['upload', 'x', '--type', 'file.inspect', '--bogus'],
    ['status', '00000000-0000-4000-8000-000000000000', '--cacert', '/nonexistent/ca.pem']]) {
    const r = await rap(args, { timeoutMs: 10000 }).done;
    assert.equal(r.code, 2, `rap ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^rap: .*\nTry 'rap --help'\.$/m);
  }
  const help = await rap(['--help']).done;
  assert.equal(help.code, 0);
  for (const word of ['rap upload FILE', 'rap watch JOB_ID', 'rap status JOB_ID', '--chunk-size',
    '--retry-timeout', '--state-dir', '--cacert', 'RAP_URL', 'RAP_API_KEY', 'RAP_CACERT', 'RAP_CLI_STATE_DIR', 'resuming'])
    assert.ok(help.stdout.includes(word), `--help mentions ${word}`);
  for (const code of ['0', '1', '2', '3', '4', '5', '6', '130'])
    assert.match(help.stdout, new RegExp(`^  ${code} +\\S`, 'm'), `--help explains exit code ${code}`);
  const up = await rap(['upload', '--help']).done;
  assert.equal(up.code, 0);
  assert.match(up.stdout, /^Usage: rap upload FILE --type TYPE/);
  assert.ok(up.stdout.includes('--no-resume'));
  const st = await rap(['help', 'status']).done;
  assert.equal(st.code, 0);
  assert.ok(!st.stdout.includes('--chunk-size'), 'status help lists its own options only');
  assert.match((await rap(['--version']).done).stdout, /^rap \d+\.\d+\.\d+/);
});

test('rap status prints a job once; --json prints the platform\'s JSON', async (t) => {
  const f = fixture(t, 3000);
  const r = await rap(['upload', f.file, '--type', 'file.inspect', '--url', GATEWAY, '--json',
    '--state-dir', f.state]).done;
  assert.equal(r.code, 0, r.stderr);
  const up = JSON.parse(r.stdout);
  assert.equal(up.sha256, sha256(f.data));
  assert.match(up.object_key, /^uploads\//);
  await waitFor('the job done', async () => (await getJob(up.job_id)).body.status === 'COMPLETED', 30000);
  const s = await rap(['status', up.job_id, '--url', GATEWAY]).done;
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^status +COMPLETED$/m);
  assert.match(s.stdout, new RegExp(`^  job ${up.job_id}: PROCESSING -> COMPLETED`, 'm'));
  const j = await rap(['status', up.job_id, '--url', GATEWAY, '--json']).done;
  assert.equal(JSON.parse(j.stdout).result.sha256, sha256(f.data));
});
