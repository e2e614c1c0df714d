// Rate limits per API key shared across instances (issue 16, point 5).
// Two job-apis and one upload-api of the test's own run next to the stack
// (same PostgreSQL) with small limits and keys made up for this run, so
// their buckets (table rate_buckets, one per key and class) are fresh and
// the stack's own keys and limits are never touched. Every instance draws
// from the same bucket of a key in PostgreSQL: across both job-apis a key
// is admitted at most rate*t + burst (+ one reserved chunk an instance);
// past it 429 rate_limited with Retry-After and the platform's JSON error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { TUS, freePort, startUploadApi, waitFor } from './helpers.mjs';

const errCode = (b) => b?.code; // RFC 9457 problem details (docs/errors.md)
const run = crypto.randomBytes(6).toString('hex');
const K1 = `rl-a-${run}`; // owner rl-${run}
const K2 = `rl-b-${run}`; // the same owner, another key
const K3 = `rl-c-${run}`; // another owner
const KEYS = `${K1}=rl-${run},${K2}=rl-${run},${K3}=rl2-${run}`;
const BURST = 10;
const CHUNK = 1; // rap_keylimit_chunk(1, 10): rate/20 at least 1
const hdr = (key, extra = {}) => ({ Authorization: `Bearer ${key}`, ...extra });

// A job-api of the test's own on a free port (the stack's PostgreSQL and
// RabbitMQ from the environment), with env over it.
async function startJobApi(env) {
  const port = await freePort();
  const child = spawn(path.join(process.env.RAP_BUILD_DIR || path.resolve('build'), 'rap-job-api'), [], {
    env: {
      ...process.env,
      RAP_JOB_PORT: String(port),
      RAP_JOB_ADMIN_PORT: '0',
      RAP_PG_URL: `postgresql://postgres@127.0.0.1:${process.env.RAP_PG_PORT || 5439}/rap`,
      RAP_AMQP_URL: `amqp://rap:rap@127.0.0.1:${process.env.RAP_AMQP_PORT || 5679}/`,
      RAP_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('a test job-api is ready', async () => {
    if (child.exitCode !== null) throw new Error(`job-api exited with ${child.exitCode}`);
    try { return (await fetch(`${url}/readyz`)).status === 200; } catch { return false; }
  }, 30000, 50);
  const exited = new Promise((r) => child.once('exit', r));
  return { url, stop: async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; } };
}

const LIMITS = {
  RAP_API_KEYS: KEYS,
  RAP_JOB_CREATE_RATE: '1', RAP_JOB_CREATE_BURST: String(BURST),
  RAP_JOB_STATUS_RATE: '1', RAP_JOB_STATUS_BURST: String(BURST),
};
let a, b, up;
before(async () => {
  a = await startJobApi(LIMITS);
  b = await startJobApi(LIMITS);
  up = await startUploadApi(`http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}`, {
    RAP_API_KEYS: KEYS, RAP_UPLOAD_REQUEST_RATE: '1', RAP_UPLOAD_REQUEST_BURST: '3',
  }, 'the rate-limited upload-api');
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop(), up?.stop()]);
});

// A job creation that reaches validation when admitted (422: no such type).
const create = (base, key) => fetch(`${base}/jobs`, {
  method: 'POST', headers: hdr(key, { 'Content-Type': 'application/json' }),
  body: JSON.stringify({ object_key: 'uploads/none', type: 'no.such.type' }),
}).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }));
const list = (base, key) => fetch(`${base}/jobs?limit=1`, { headers: hdr(key) })
  .then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }));

// Sends n requests, half to each instance, all at once; the admitted ones
// (status ok) and the refusals, with the time it took.
async function flood(n, send, ok) {
  const t0 = Date.now();
  const res = await Promise.all(Array.from({ length: n }, (_, i) => send(i % 2 ? b.url : a.url, i % 2)));
  const seconds = (Date.now() - t0) / 1000;
  const admitted = res.filter((r) => r.status === ok);
  const refused = res.filter((r) => r.status === 429);
  assert.equal(admitted.length + refused.length, n, JSON.stringify(res.filter((r) => r.status !== ok && r.status !== 429)));
  return { res, admitted, refused, seconds };
}

function assertRefusal(r) {
  assert.equal(r.status, 429);
  assert.equal(errCode(r.body), 'rate_limited', JSON.stringify(r.body));
  assert.match(r.retry ?? '', /^[1-9][0-9]*$/, `Retry-After ${r.retry}`);
}

test('job creations of one key are limited across two job-apis together, with 429 Retry-After; other keys are not', async (t) => {
  const f = await flood(40, (base, i) => create(base, K1).then((r) => ({ ...r, i })), 422);
  // Each instance alone would admit a whole burst and its refill: twice
  // the shared bound, less the chunks.
  const bound = BURST + 1 * f.seconds + 2 * CHUNK;
  t.diagnostic(`creations: ${f.admitted.length} of 40 admitted in ${f.seconds} s (bound ${bound})`);
  assert.ok(f.admitted.length <= bound, `${f.admitted.length} admitted in ${f.seconds} s, bound ${bound}`);
  assert.ok(f.admitted.length >= BURST - 2 * CHUNK, `only ${f.admitted.length} admitted`);
  // (Which instance admits them is a race: one may reserve the whole burst
  // before the other asks; the bound above is what sharing guarantees.)
  assert.ok(f.refused.length > 0);
  for (const r of f.refused) assertRefusal(r);
  // Another key of the same owner, and a key of another owner: untouched.
  assert.equal((await create(a.url, K2)).status, 422);
  assert.equal((await create(b.url, K3)).status, 422);
  // Status reads are another bucket: K1 still reads.
  assert.equal((await list(a.url, K1)).status, 200);
  // A batch counts its jobs: 5 jobs need 5 tokens K1 has not got.
  const batch = await fetch(`${b.url}/jobs/batch`, {
    method: 'POST', headers: hdr(K1, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({ jobs: Array.from({ length: 5 }, () => ({ object_key: 'uploads/none', type: 'no.such.type' })) }),
  }).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }));
  assertRefusal(batch);
});

test('status reads of one key are limited across both job-apis, apart from creations', async (t) => {
  const f = await flood(40, (base) => list(base, K3), 200);
  const bound = BURST + 1 * f.seconds + 2 * CHUNK;
  t.diagnostic(`status reads: ${f.admitted.length} of 40 admitted in ${f.seconds} s (bound ${bound})`);
  assert.ok(f.admitted.length <= bound, `${f.admitted.length} admitted in ${f.seconds} s, bound ${bound}`);
  assert.ok(f.refused.length > 0);
  for (const r of f.refused) assertRefusal(r);
  const get = await fetch(`${a.url}/jobs/00000000-0000-4000-8000-000000000000`, { headers: hdr(K3) });
  assert.equal(get.status, 429, 'GET /jobs/{id} is a status read too');
  assert.equal(errCode(await get.json()), 'rate_limited');
  // K3's creations still pass: the classes are apart.
  assert.equal((await create(b.url, K3)).status, 422);
  // Once Retry-After has passed, K3 reads again.
  const again = await waitFor('K3 reads again', async () => {
    const r = await list(a.url, K3);
    return r.status === 200 && r;
  }, (Number(f.refused[0].retry) + 3) * 1000, 200);
  assert.equal(again.status, 200);
});

test('uploads are limited per key: presign, multipart POST and tus POST share the bucket', async () => {
  const presign = () => fetch(`${up.url}/uploads/presign`, {
    method: 'POST', headers: hdr(K2, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({ size: 10, filename: 'a.txt' }),
  }).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }));
  const first = [];
  for (let i = 0; i < 3; i++) first.push(await presign());
  for (const r of first) assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
  assertRefusal(await presign());
  const form = new FormData();
  form.append('file', new Blob(['hello']), 'a.txt');
  const multipart = await fetch(`${up.url}/uploads`, { method: 'POST', headers: hdr(K2), body: form });
  assert.equal(multipart.status, 429);
  assert.equal(errCode(await multipart.json()), 'rate_limited');
  const tus = await fetch(`${up.url}/files`, { method: 'POST', headers: hdr(K2, { ...TUS, 'Upload-Length': '5' }) });
  assert.equal(tus.status, 429);
  assert.match(tus.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  // Another key is not limited.
  const other = await fetch(`${up.url}/uploads/presign`, {
    method: 'POST', headers: hdr(K3, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({ size: 10, filename: 'a.txt' }),
  });
  assert.ok(other.status === 200 || other.status === 201, String(other.status));
});
