// W3C Trace Context across the queue (issue 16, point 3;
// docs/observability.md, "Traces"): a client's traceparent is continued by
// the gateway, upload-api, job-api (request and outbox relay), the worker
// (supervisor and sandboxed processor) and the notifier, each line of the
// job's logs carrying the one trace id; an invalid one gets a new trace.
// The logs are the stack's own files (scripts/stack.sh writes each
// service's to $RAP_STATE_DIR/logs/<name>.log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY, auth, getJob, jobEnded, waitFor } from './helpers.mjs';
import { rap, tempDir } from './cli-helpers.mjs';

const LOGS = path.join(process.env.RAP_STATE_DIR || '.state', 'logs');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const errCode = (b) => b?.code; // RFC 9457 problem details (docs/errors.md)

const hex = (bytes) => crypto.randomBytes(bytes).toString('hex');

// Every JSON line of every log file that carries trace id t, with the
// file it came from.
function linesOf(t) {
  const found = [];
  for (const f of fs.readdirSync(LOGS).filter((n) => n.endsWith('.log'))) {
    for (const line of fs.readFileSync(path.join(LOGS, f), 'utf8').split('\n')) {
      if (!line.includes(t)) continue;
      try {
        const o = JSON.parse(line);
        if (o.trace_id === t) found.push({ file: f, ...o });
      } catch { /* not a JSON line: a supervisor's or a library's */ }
    }
  }
  return found;
}

async function send(method, url, { body, headers = {} } = {}) {
  const res = await fetch(`${GATEWAY}${url}`, { method, headers: { ...auth(), ...headers }, body });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

test('one upload and one job are followed by one trace id through every service', async (t) => {
  const traceId = hex(16), parent = hex(8);
  const tp = { traceparent: `00-${traceId}-${parent}-01` };

  const form = new FormData();
  form.append('file', new Blob([Buffer.from(`a traced file ${traceId}\n`)]), 'traced.txt');
  const up = await send('POST', '/api/uploads', { body: form, headers: tp });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal(up.headers.get('x-trace-id'), traceId);
  const back = TRACEPARENT.exec(up.headers.get('traceparent'));
  assert.ok(back, `upload-api answers a traceparent: ${up.headers.get('traceparent')}`);
  assert.equal(back[1], traceId);
  assert.notEqual(back[2], parent, 'the service answers with a span of its own');

  const created = await send('POST', '/api/jobs', {
    body: JSON.stringify({ object_key: up.body.object_key, type: 'file.inspect' }),
    headers: { ...tp, 'Content-Type': 'application/json' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  assert.equal(created.headers.get('x-trace-id'), traceId);
  assert.equal(TRACEPARENT.exec(created.headers.get('traceparent'))?.[1], traceId);
  const jobId = created.body.job_id;
  assert.equal((await jobEnded(jobId)).status, 'COMPLETED');
  assert.equal((await getJob(jobId)).body.trace_id, traceId, 'GET /jobs/{id} names the trace');

  // Every service's part, found by the trace id alone.  The gateway's
  // access log is written at most a second late.
  const want = {
    'gateway upload': (l) => l.service === 'gateway' && l.uri === '/api/uploads' && l.status === 201,
    'gateway job': (l) => l.service === 'gateway' && l.uri === '/api/jobs' && l.status === 202,
    'upload-api request': (l) => l.service === 'upload-api' && l.action === 'http' && /POST \/uploads/.test(l.msg),
    'job-api request': (l) => l.service === 'job-api' && l.action === 'http' && /POST \/jobs/.test(l.msg),
    'job-api creation': (l) => l.service === 'job-api' && l.job_id === jobId && /created/.test(l.msg),
    'job-api relay': (l) => l.service === 'job-api' && l.action === 'relay' && l.job_id === jobId,
    'worker processing': (l) => l.service === 'worker' && l.job_id === jobId && /processing attempt 1/.test(l.msg),
    'worker sandbox supervisor': (l) => l.service === 'worker' && /rap-processor used/.test(l.msg),
    'worker outcome': (l) => l.service === 'worker' && l.job_id === jobId && l.msg === 'completed',
    notifier: (l) => l.service === 'notifier' && /handed to the fan-out/.test(l.msg),
  };
  let lines = [];
  await waitFor('every service logged the trace', () => {
    lines = linesOf(traceId);
    return Object.values(want).every((f) => lines.some(f));
  }, 15000, 250).catch(() => {
    const missing = Object.keys(want).filter((k) => !lines.some(want[k]));
    assert.fail(`no line for ${missing.join(', ')} with trace_id ${traceId}; found:\n` +
      lines.map((l) => JSON.stringify(l)).join('\n'));
  });
  t.diagnostic(`trace ${traceId}:`);
  for (const l of lines) {
    t.diagnostic(`  ${l.file} span=${l.span_id} ${l.action ?? ''} ${l.job_id ?? ''} ` +
      `${l.msg ?? `${l.method} ${l.uri} -> ${l.status}`}`);
  }
  for (const l of lines) {
    if (l.service === 'gateway') continue;
    assert.match(l.span_id ?? '', /^[0-9a-f]{16}$/, `a span id on ${JSON.stringify(l)}`);
    assert.notEqual(l.span_id, parent, 'each service logs its own span');
  }
  // The worker's span is not the job-api request's: a new span per unit of work.
  const span = (k) => lines.find(want[k]).span_id;
  assert.notEqual(span('worker processing'), span('job-api request'));
  assert.equal(span('worker processing'), span('worker outcome'), 'one span for the run');
});

test('a retried job keeps its trace id on every attempt', async () => {
  const traceId = hex(16);
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('retry me\n')]), 'retry.txt');
  const up = await send('POST', '/api/uploads', { body: form });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const created = await send('POST', '/api/jobs', {
    body: JSON.stringify({ object_key: up.body.object_key, type: 'test.fault',
      params: { mode: 'transient', failures: 1 } }),
    headers: { traceparent: `00-${traceId}-${hex(8)}-01`, 'Content-Type': 'application/json' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const jobId = created.body.job_id;
  assert.equal((await jobEnded(jobId)).status, 'COMPLETED');
  const attempts = await waitFor('both attempts logged in the trace', () => {
    const l = linesOf(traceId).filter((x) => x.service === 'worker' && x.job_id === jobId &&
      /processing attempt/.test(x.msg));
    return l.length >= 2 && l;
  }, 10000, 250);
  assert.notEqual(attempts[0].span_id, attempts[1].span_id, 'each attempt is a span of its own');
});

test('a malformed or refused traceparent gets a fresh valid trace, never an error', async () => {
  const zero = '0'.repeat(32);
  const refused = [
    'garbage',
    `00-${zero}-${hex(8)}-01`,
    `00-${hex(16)}-${'0'.repeat(16)}-01`,
    `ff-${hex(16)}-${hex(8)}-01`,
    `00-${hex(16).toUpperCase()}-${hex(8)}-01`,
    `00-${hex(16)}-${hex(8)}-01-extra`,
  ];
  for (const value of refused) {
    const res = await send('GET', '/api/jobs/00000000-0000-4000-8000-000000000000',
      { headers: { traceparent: value } });
    assert.equal(res.status, 404, `${value}: ${JSON.stringify(res.body)}`);
    assert.equal(errCode(res.body), 'not_found');
    const fresh = res.headers.get('x-trace-id');
    assert.match(fresh ?? '', /^[0-9a-f]{32}$/, value);
    assert.notEqual(fresh, zero);
    assert.ok(!value.includes(fresh), `${value} is not continued`);
    const tp = TRACEPARENT.exec(res.headers.get('traceparent'));
    assert.ok(tp, `a valid traceparent back for ${value}: ${res.headers.get('traceparent')}`);
    assert.equal(tp[1], fresh, 'the service continues the trace the gateway started');
  }
});

test('a service reached directly starts or continues the trace itself', async (t) => {
  const direct = (process.env.RAP_SERVICE_URLS || '').split(',').filter(Boolean)[1];
  if (!direct) return t.skip('RAP_SERVICE_URLS not set');
  const traceId = hex(16);
  let res = await fetch(`${direct}/job-types`,
    { headers: { ...auth(), traceparent: `00-${traceId}-${hex(8)}-00` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('traceparent'), new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  res = await fetch(`${direct}/job-types`, { headers: { ...auth(), traceparent: `00-${traceId}-${hex(8)}-0` } });
  assert.equal(res.status, 200, 'an invalid traceparent never fails the request');
  const tp = TRACEPARENT.exec(res.headers.get('traceparent'));
  assert.ok(tp);
  assert.notEqual(tp[1], traceId);
  // The notifier's HTTP side (libwebsockets) does the same.
  const notifier = (process.env.RAP_SERVICE_URLS || '').split(',')[2];
  res = await fetch(`${notifier}/healthz`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('traceparent') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  res = await fetch(`${notifier}/healthz`, { headers: { traceparent: 'nonsense' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('traceparent') ?? '', TRACEPARENT);
});

test('rap upload --type: the upload and the job it asks for share one trace', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'traced.txt');
  fs.writeFileSync(file, 'one trace for the upload and its job\n');
  const r = await rap(['upload', file, '--type', 'file.inspect', '--url', GATEWAY,
    '--state-dir', path.join(dir, 'state')]).done;
  assert.equal(r.code, 0, r.stderr);
  const jobId = /^job_id ([0-9a-f-]{36})$/m.exec(r.stdout)?.[1];
  assert.ok(jobId, r.stdout);
  const traceId = (await getJob(jobId)).body.trace_id;
  assert.match(traceId ?? '', /^[0-9a-f]{32}$/);
  // The tus requests that made the upload are in the same trace.
  await waitFor('the upload\'s requests in the job\'s trace', () =>
    linesOf(traceId).some((l) => l.service === 'upload-api' && /PATCH|POST \/files/.test(l.msg)), 10000, 250);
});
