// `rap output JOB_ID` (cli/output.c, cli/download.c, docs/cli.md) against
// the real stack: a job's main output and a named one (pdf.text per_page)
// downloaded equal to what S3 holds, -o - to stdout, an existing file kept
// without --force, a FILE.part resumed with a Range request, a download
// cut mid-way resumed in the same run, a 200 to a Range that starts the
// file over, an S3 403 (expired URL) that gets a fresh URL, an S3 503 with
// Retry-After waited out, Ctrl-C then a rerun that resumes, a size that
// is not the job's (exit 3), and the API's refusals (404, 409, 400).
//
// The presigned URL points at S3, not at the gateway; libcurl honours
// http_proxy, so each test that watches or breaks the S3 link runs rap with
// http_proxy set to a forward proxy in this process (loopback only) that
// records the S3 requests and misbehaves on the first as told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { GATEWAY, auth, createJob, jobEnded, randomBytes, upload, waitFor } from './helpers.mjs';
import { rap, tempDir } from './cli-helpers.mjs';
import { cairoPdf } from './pdfs.mjs';

const S3_PORT = Number(process.env.RAP_S3_PORT || 9100);
const NO_JOB = '00000000-0000-4000-8000-000000000000';

// A test's folder, removed after it.
function folder(t) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Uploads bytes, runs a job of type on them and waits until it ends.
async function runJob(type, bytes, params, filename = 'data.bin') {
  const up = await upload(bytes, { filename });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const res = await createJob({ object_key: up.body.object_key, type, params });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return jobEnded(res.body.job_id, 120000);
}

// What S3 holds for an output: the API's answer and the bytes its
// presigned URL gives, fetched directly.
async function s3Output(id, name) {
  const q = name ? `?name=${encodeURIComponent(name)}` : '';
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/output${q}`, { headers: auth() });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return { ...body, bytes: Buffer.from(await (await fetch(body.url)).arrayBuffer()) };
}

// One COMPLETED file.inspect job shared by the tests that only read it.
let inspected;
async function inspectJob() {
  if (!inspected) {
    const job = await runJob('file.inspect', randomBytes(5000));
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
    inspected = { job, out: await s3Output(job.job_id) };
    assert.ok(inspected.out.bytes.length > 20, 'the output is long enough to cut in two');
  }
  return inspected;
}

// A forward HTTP proxy on loopback for rap's http_proxy.  S3 GETs are
// recorded (their Range headers) in `s3`; the first one can be answered
// by `first`: 'cut' (half the body, then the connection drops), '403',
// '503' (Retry-After: 1) or 'norange' (the Range header is dropped, so S3
// answers 200), 'hold' (half the body, then nothing: the link hangs) or
// 'grow' (the body with 10 bytes more: not the size the job lists).
async function s3Proxy(t, { first = null } = {}) {
  const seen = { s3: [], api: [] };
  const server = http.createServer((req, res) => {
    const target = new URL(req.url);
    if (!/^127\./.test(target.hostname)) {
      res.writeHead(403).end('loopback only');
      return;
    }
    const isS3 = Number(target.port) === S3_PORT && req.method === 'GET';
    const n = isS3 ? seen.s3.push({ range: req.headers.range ?? null }) : seen.api.push(target.pathname + target.search);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const mode = isS3 && n === 1 ? first : null;
    if (mode === '403' || mode === '503') {
      const h = mode === '503' ? { 'Retry-After': '1' } : {};
      res.writeHead(Number(mode), { 'Content-Type': 'application/xml', ...h })
        .end('<Error><Code>Refused</Code></Error>');
      return;
    }
    if (mode === 'norange') delete headers.range;
    const up = http.request({ host: target.hostname, port: target.port, method: req.method,
      path: target.pathname + target.search, headers }, (ur) => {
      if (mode === 'grow') {
        const chunks = [];
        ur.on('data', (c) => chunks.push(c));
        ur.on('end', () => {
          const body = Buffer.concat([...chunks, Buffer.alloc(10, 'Z')]);
          res.writeHead(ur.statusCode, { ...ur.headers, 'content-length': body.length }).end(body);
        });
        return;
      }
      if (mode !== 'cut' && mode !== 'hold') {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
        return;
      }
      const chunks = [];
      ur.on('data', (c) => chunks.push(c));
      ur.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(ur.statusCode, ur.headers);
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        if (mode === 'cut') setTimeout(() => res.socket.destroy(), 100);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const env = { http_proxy: `http://127.0.0.1:${server.address().port}`, HTTP_PROXY: '', no_proxy: '', NO_PROXY: '' };
  return { seen, env };
}

// rap output ...args in dir, with the gateway's URL: the run (start) or
// its end.
function start(dir, args, env = {}) {
  return rap(['output', ...args, '--url', GATEWAY, '--retry-timeout', '30'],
    { env, cwd: dir, timeoutMs: 60000 });
}
const output = (dir, args, env = {}) => start(dir, args, env).done;

test('rap output saves the main output under its name, equal to what S3 holds; --json says so', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  const r = await output(dir, [job.job_id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const saved = fs.readFileSync(path.join(dir, out.name));
  assert.deepEqual(saved, out.bytes);
  assert.deepEqual(JSON.parse(r.stdout), { job_id: job.job_id, name: out.name, file: out.name, bytes: out.bytes.length });
  assert.ok(!fs.existsSync(path.join(dir, `${out.name}.part`)), 'no .part is left');
  // The file is there now: without --force it is kept (exit 2); with it, rewritten.
  fs.writeFileSync(path.join(dir, out.name), 'mine');
  const again = await output(dir, [job.job_id]);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /exists: give --force/);
  assert.equal(fs.readFileSync(path.join(dir, out.name), 'utf8'), 'mine');
  const forced = await output(dir, [job.job_id, '--force', '-q']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dir, out.name)), out.bytes);
});

test('--name fetches one page of a pdf.text per_page job; -o FILE and -o - write where asked', async (t) => {
  const dir = folder(t);
  const pdf = cairoPdf(path.join(dir, 'in.pdf'), ['page one', 'page two']);
  const job = await runJob('pdf.text', pdf, { per_page: true }, 'in.pdf');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const p2 = await s3Output(job.job_id, 'page-00002.txt');
  const r = await output(dir, [job.job_id, '--name', 'page-00002.txt']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'page-00002.txt')), p2.bytes);
  assert.equal(p2.bytes.toString().trim(), 'page two');
  const o = await output(dir, [job.job_id, '--name', 'page-00001.txt', '-o', 'first.txt']);
  assert.equal(o.code, 0, o.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'first.txt'), 'utf8').trim(), 'page one');
  const main = await s3Output(job.job_id);
  const s = await output(dir, [job.job_id, '-o', '-']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout, main.bytes.toString());
  assert.equal(s.stderr, '', 'no progress with -o -');
  assert.ok(!fs.existsSync(path.join(dir, 'text.txt')));
});

test('a FILE.part from an earlier run is resumed with Range: only the rest is asked for', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  const k = Math.floor(out.bytes.length / 2);
  // The .part holds other bytes than the output's first k: they stay, so
  // the file proves only the rest was fetched; the size still matches.
  fs.writeFileSync(path.join(dir, `${out.name}.part`), Buffer.alloc(k, 'X'));
  const proxy = await s3Proxy(t);
  const r = await output(dir, [job.job_id], proxy.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`resuming ${out.name}\\.part at ${k} bytes`));
  assert.deepEqual(proxy.seen.s3, [{ range: `bytes=${k}-` }]);
  const saved = fs.readFileSync(path.join(dir, out.name));
  assert.equal(saved.length, out.bytes.length);
  assert.deepEqual(saved.subarray(0, k), Buffer.alloc(k, 'X'));
  assert.deepEqual(saved.subarray(k), out.bytes.subarray(k));
});

test('a .part that is already whole, or longer than the output (416), ends with the output', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  fs.writeFileSync(path.join(dir, 'whole.part'), out.bytes);
  const whole = await output(dir, [job.job_id, '-o', 'whole']);
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'whole')), out.bytes);
  fs.writeFileSync(path.join(dir, 'long.part'), Buffer.concat([out.bytes, Buffer.from('junk')]));
  const long = await output(dir, [job.job_id, '-o', 'long']);
  assert.equal(long.code, 0, long.stderr);
  assert.match(long.stderr, /not a beginning of the object: starting over/);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'long')), out.bytes);
});

test('a download cut mid-way is resumed in the same run from the bytes it has', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  const proxy = await s3Proxy(t, { first: 'cut' });
  const r = await output(dir, [job.job_id], proxy.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /retry: download: /);
  assert.equal(proxy.seen.s3.length, 2, JSON.stringify(proxy.seen));
  assert.equal(proxy.seen.s3[0].range, null);
  assert.equal(proxy.seen.s3[1].range, `bytes=${Math.floor(out.bytes.length / 2)}-`);
  assert.deepEqual(fs.readFileSync(path.join(dir, out.name)), out.bytes);
});

test('Ctrl-C mid-download: exit 130, the .part stays; the same command resumes it', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  const half = Math.floor(out.bytes.length / 2);
  const part = path.join(dir, `${out.name}.part`);
  const hung = await s3Proxy(t, { first: 'hold' });
  const run = start(dir, [job.job_id], hung.env);
  await waitFor('half the output in the .part', () => fs.existsSync(part) && fs.statSync(part).size === half, 20000, 50);
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, new RegExp(`interrupted: ${half} bytes are in ${out.name}\\.part; run the same command again`));
  assert.equal(fs.statSync(part).size, half);
  const proxy = await s3Proxy(t);
  const again = await output(dir, [job.job_id], proxy.env);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(proxy.seen.s3, [{ range: `bytes=${half}-` }]);
  assert.deepEqual(fs.readFileSync(path.join(dir, out.name)), out.bytes);
});

test('a download of another size than the job lists: exit 3, no file and no .part', async (t) => {
  const dir = folder(t);
  const pdf = cairoPdf(path.join(dir, 'in.pdf'), ['only page']);
  fs.rmSync(path.join(dir, 'in.pdf'));
  const job = await runJob('pdf.text', pdf, { per_page: true }, 'in.pdf');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const out = await s3Output(job.job_id);
  assert.equal(job.result.outputs.find((o) => o.name === out.name).bytes, out.bytes.length);
  const proxy = await s3Proxy(t, { first: 'grow' });
  const r = await output(dir, [job.job_id], proxy.env);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`size check failed: ${out.bytes.length + 10} bytes .* lists ${out.bytes.length}`));
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a 200 to a Range request starts the file over', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  fs.writeFileSync(path.join(dir, `${out.name}.part`), Buffer.alloc(7, 'X'));
  const proxy = await s3Proxy(t, { first: 'norange' });
  const r = await output(dir, [job.job_id], proxy.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /starting over/);
  assert.deepEqual(fs.readFileSync(path.join(dir, out.name)), out.bytes);
});

test('S3 refusing the URL (403) gets a fresh one from the API; a 503 with Retry-After is waited out', async (t) => {
  const dir = folder(t);
  const { job, out } = await inspectJob();
  const refused = await s3Proxy(t, { first: '403' });
  const r = await output(dir, [job.job_id, '-o', 'a'], refused.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /asking for a fresh one/);
  assert.equal(refused.seen.api.filter((p) => p.endsWith('/output')).length, 2, JSON.stringify(refused.seen));
  assert.deepEqual(fs.readFileSync(path.join(dir, 'a')), out.bytes);
  const busy = await s3Proxy(t, { first: '503' });
  const t0 = Date.now();
  const b = await output(dir, [job.job_id, '-o', 'b'], busy.env);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /trying again in 1\.\d s/);
  assert.ok(Date.now() - t0 >= 1000);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'b')), out.bytes);
});

test('refusals: no such job (404), a job without output (409), a bad or unknown name', async (t) => {
  const dir = folder(t);
  const missing = await output(dir, [NO_JOB]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /^error: .*\(not_found, HTTP 404\)$/m);
  const noop = await runJob('noop', Buffer.from('abc'));
  assert.equal(noop.status, 'COMPLETED', JSON.stringify(noop));
  const none = await output(dir, [noop.job_id]);
  assert.equal(none.code, 1, none.stderr);
  assert.match(none.stderr, /\(no_output, HTTP 409\)/);
  const { job } = await inspectJob();
  const bad = await output(dir, [job.job_id, '--name', '.hidden']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /\(bad_request, HTTP 400\)/);
  const unknown = await output(dir, [job.job_id, '--name', 'page-00009.txt']);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /\(not_found, HTTP 404\)/);
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing is written for a refusal');
});
