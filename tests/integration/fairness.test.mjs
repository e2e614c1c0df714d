// Fairness between tenants (issue 15, point 2), with the stack's two owners
// (dev-key=dev, other-key=other):
// - upload places are shared per owner: owner other's crowd of slow uploads
//   takes its share (RAP_UPLOAD_MAX_ACTIVE_PER_OWNER) and is refused past it
//   with 429, while owner dev's uploads go through, never a 503;
// - a body slower than RAP_UPLOAD_MIN_RATE over RAP_UPLOAD_RATE_WINDOW_S is
//   cut with 408 upload_too_slow: a multipart upload is aborted in S3, a
//   tus PATCH keeps what arrived and its client resumes from HEAD's offset;
// - job creations are a token bucket per owner: past it 429 rate_limited
//   with Retry-After for that owner only.
// The upload tests run an upload-api of their own (same PostgreSQL and S3,
// S3 through a recorder) with a 3 s window and 8 places, 2 an owner, so the
// stack's own instance keeps its defaults for the other test files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  GATEWAY, OTHER_KEY, TUS, auth, idOf, randomBytes, sha256, startUploadApi, waitFor,
} from './helpers.mjs';

const MiB = 1024 * 1024;
const PART = Number(process.env.RAP_UPLOAD_PART_SIZE || 8 * MiB);
const S3_PORT = Number(process.env.RAP_S3_PORT || 9100);
const WINDOW_S = 3;

// An HTTP proxy to the S3 server that remembers "METHOD /path?query" of
// each request, so a test sees the AbortMultipartUpload a cut sends.
function s3Recorder() {
  const calls = [];
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const up = http.request({ host: '127.0.0.1', port: S3_PORT, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    endpoint: `http://127.0.0.1:${server.address().port}`,
    calls,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); agent.destroy(); }),
  })));
}

const startInstance = (s3, env) => startUploadApi(s3.endpoint, env, 'the fairness upload-api');

let s3, api;
before(async () => {
  s3 = await s3Recorder();
  api = await startInstance(s3, {
    RAP_UPLOAD_MAX_ACTIVE: '8',
    RAP_UPLOAD_MAX_ACTIVE_PER_OWNER: '2',
    RAP_UPLOAD_MIN_RATE: '1024',
    RAP_UPLOAD_RATE_WINDOW_S: String(WINDOW_S),
  });
});
after(async () => {
  await api?.stop();
  await s3?.close();
});

async function metric(name) {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

// A request that sends its headers and `first` bytes of its body at once,
// then a byte a second: a hostile client's way to hold a place. `answer`
// resolves with { status, body } when the server answers or { status: 0 }
// when the connection ends without one.
function slowRequest({ path: p, method, headers, body, first, drip = true }) {
  const u = new URL(`${api.url}${p}`);
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, headers: { ...headers, 'Content-Length': body.length } });
  let sent = first, timer;
  const answer = new Promise((resolve) => {
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', () => resolve({ status: 0 }));
  }).finally(() => clearInterval(timer));
  if (first > 0) req.write(body.subarray(0, first));
  else req.flushHeaders();
  if (drip) {
    timer = setInterval(() => {
      if (sent < body.length - 1) req.write(body.subarray(sent, ++sent));
    }, 1000);
  }
  return { answer, stop: () => { clearInterval(timer); req.destroy(); } };
}

function multipartBody(data) {
  const boundary = 'fairness-boundary-7d1c';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, data, tail]), type: `multipart/form-data; boundary=${boundary}`, head: head.length };
}

function slowUpload(key, data, quick) {
  const mp = multipartBody(data);
  return slowRequest({
    path: '/uploads', method: 'POST', headers: { ...auth(key), 'Content-Type': mp.type }, body: mp.body, first: mp.head + quick,
  });
}

async function tusCreate(key, length) {
  const r = await fetch(`${api.url}/files`, { method: 'POST', headers: { ...TUS, ...auth(key), 'Upload-Length': String(length) } });
  assert.equal(r.status, 201, await r.text());
  return idOf(r.headers.get('location'));
}

function slowPatch(key, id, data, offset, quick) {
  return slowRequest({
    path: `/files/${id}`, method: 'PATCH', body: data.subarray(offset),
    headers: { ...TUS, ...auth(key), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) },
    first: quick,
  });
}

async function tusPatch(key, id, offset, body) {
  const r = await fetch(`${api.url}/files/${id}`, {
    method: 'PATCH', body,
    headers: { ...TUS, ...auth(key), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) },
  });
  return { status: r.status, offset: Number(r.headers.get('upload-offset')), retryAfter: r.headers.get('retry-after'), body: await r.text() };
}

async function tusOffset(key, id) {
  const r = await fetch(`${api.url}/files/${id}`, { method: 'HEAD', headers: { ...TUS, ...auth(key) } });
  assert.equal(r.status, 200);
  return Number(r.headers.get('upload-offset'));
}

async function quickUpload(key, n = 4096) {
  const form = new FormData();
  form.append('file', new Blob([randomBytes(n)]), 'quick.bin');
  const r = await fetch(`${api.url}/uploads`, { method: 'POST', headers: auth(key), body: form });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
}

test("owner other's slow crowd takes its share and no more: 429 past it, owner dev never meets a 503, and the slow ones are cut", async (t) => {
  const slow = [];
  t.after(() => slow.forEach((x) => x.stop()));
  const cutBefore = await metric('rap_uploads_cut_total{reason="too_slow"}');
  // Two slow multipart uploads of owner other hold its share (2 of 8); the
  // first sends a part and more, so an S3 multipart upload is under way.
  const big = randomBytes(PART + 64 * 1024);
  slow.push(slowUpload(OTHER_KEY, big, PART + 1024));
  slow.push(slowUpload(OTHER_KEY, randomBytes(64 * 1024), 10));
  await waitFor('owner other holds its two places', async () => (await metric('rap_uploads_in_flight')) === 2, 10000, 20);
  await waitFor('the big one began its S3 multipart upload', () => s3.calls.some((c) => /^POST .*\?uploads/.test(c)), 10000, 20);
  // Past its share every further request of owner other is refused (once
  // its body is in: libmicrohttpd answers after the body), and holds no place.
  const ids = await Promise.all([1, 2, 3, 4].map(() => tusCreate(OTHER_KEY, 64 * 1024)));
  const refused = await Promise.all([
    ...ids.map((id) => tusPatch(OTHER_KEY, id, 0, randomBytes(64 * 1024))),
    quickUpload(OTHER_KEY),
  ]);
  for (const r of refused) {
    assert.equal(r.status, 429, r.body);
    assert.equal(JSON.parse(r.body).code, 'upload_share_exceeded');
    assert.equal(r.retryAfter, '2', 'Retry-After says when to ask again');
  }
  for (const id of ids) assert.equal(await tusOffset(OTHER_KEY, id), 0, 'nothing of a refused PATCH is stored');
  assert.equal(await metric('rap_uploads_over_share_total'), 5);
  assert.equal(await metric('rap_uploads_in_flight'), 2, 'the refused ones hold no place');
  // Owner dev uploads and PATCHes all along, until the slow ones are cut.
  const cut = Promise.all(slow.slice(0, 2).map((s) => s.answer));
  let settled = false;
  cut.finally(() => { settled = true; });
  let devDone = 0;
  while (!settled) {
    const [u, id] = await Promise.all([quickUpload(undefined), tusCreate(undefined, 4096)]);
    assert.equal(u.status, 201, `dev's upload ${devDone}: ${u.body}`);
    const p = await tusPatch(undefined, id, 0, randomBytes(4096));
    assert.equal(p.status, 204, `dev's PATCH ${devDone}: ${p.body}`);
    devDone++;
  }
  assert.ok(devDone > 0);
  // The slow ones end with 408 upload_too_slow once a window passed.
  for (const r of await cut) {
    assert.equal(r.status, 408, JSON.stringify(r));
    const e = JSON.parse(r.body);
    assert.equal(e.code, 'upload_too_slow');
    assert.equal(e.status, 408);
  }
  assert.equal(await metric('rap_uploads_cut_total{reason="too_slow"}'), cutBefore + 2);
  // Their places are back, the S3 multipart upload was aborted, and owner
  // other may upload again.
  await waitFor('the places are free', async () => (await metric('rap_uploads_in_flight')) === 0, 10000, 20);
  await waitFor('the S3 multipart upload of the cut one was aborted', () =>
    s3.calls.some((c) => /^DELETE .*uploadId=/.test(c)), 10000, 20);
  const again = await quickUpload(OTHER_KEY);
  assert.equal(again.status, 201, again.body);
});

test('a body that sends nothing at all is cut too', async (t) => {
  const id = await tusCreate(OTHER_KEY, 8192);
  // Headers only, not one byte of body: the pacer finds it, not a byte.
  const started = Date.now();
  const s = slowRequest({
    path: `/files/${id}`, method: 'PATCH', body: randomBytes(8192), first: 0, drip: false,
    headers: { ...TUS, ...auth(OTHER_KEY), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' },
  });
  t.after(() => s.stop());
  let timeout;
  const r = await Promise.race([s.answer, new Promise((res) => { timeout = setTimeout(() => res({ status: -1 }), 20000); })]);
  clearTimeout(timeout);
  assert.equal(r.status, 408, JSON.stringify(r));
  assert.equal(JSON.parse(r.body).code, 'upload_too_slow');
  assert.ok(Date.now() - started >= (WINDOW_S - 1) * 1000, 'not before its window ended');
});

test('a cut tus PATCH keeps what arrived and its offset: the client resumes from HEAD and finishes', async (t) => {
  const data = randomBytes(96 * 1024);
  const id = await tusCreate(undefined, data.length);
  // 1000 bytes at once, then a byte a second: cut after the first window.
  const s = slowPatch(undefined, id, data, 0, 1000);
  t.after(() => s.stop());
  const r = await s.answer;
  assert.equal(r.status, 408, JSON.stringify(r));
  assert.equal(JSON.parse(r.body).code, 'upload_too_slow');
  s.stop();
  // The bytes that arrived are kept: HEAD tells where to go on (the lock and
  // the tail are saved as the cut PATCH ends).
  const offset = await waitFor('HEAD shows the kept offset', async () => {
    const o = await tusOffset(undefined, id);
    return o >= 1000 ? o : false;
  }, 10000, 50);
  assert.ok(offset >= 1000 && offset <= 1004, `offset ${offset}: what arrived before the cut`);
  const rest = await waitFor('the resumed PATCH gets the lock', async () => {
    const p = await tusPatch(undefined, id, offset, data.subarray(offset));
    return p.status === 423 ? false : p;
  }, 10000, 50);
  assert.equal(rest.status, 204, rest.body);
  assert.equal(rest.offset, data.length);
  const info = await (await fetch(`${api.url}/uploads/${id}`, { headers: auth() })).json();
  assert.equal(info.state, 'COMPLETE');
  assert.equal(info.sha256, sha256(data));
});

// Job creation: the stack runs with RAP_JOB_CREATE_RATE=1000 and
// RAP_JOB_CREATE_BURST=3000 (scripts/test). A batch costs as many tokens as
// it holds, whatever becomes of it: batches of an unknown type drain owner
// other's bucket without writing a job.
test("a burst of job creations past owner other's bucket gets 429 with Retry-After; owner dev is unaffected", async () => {
  const batch = (key, jobs) => fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST', headers: { ...auth(key), 'Content-Type': 'application/json' }, body: JSON.stringify({ jobs }),
  });
  const junk = Array.from({ length: 1000 }, () => ({ object_key: 'uploads/none', type: 'no.such.type' }));
  let limited;
  for (let i = 0; i < 20 && !limited; i++) {
    const r = await batch(OTHER_KEY, junk);
    const body = await r.json();
    if (r.status === 429) limited = { r, body };
    else assert.equal(r.status, 422, JSON.stringify(body));
  }
  assert.ok(limited, 'the bucket ran dry within 20 batches of 1000');
  assert.equal(limited.body.code, 'rate_limited');
  assert.equal(limited.body.status, 429);
  const retry = Number(limited.r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 5, `Retry-After ${retry}`);
  // Owner dev creates at once, a batch as large as that one included.
  const dev = await batch(undefined, junk);
  assert.equal(dev.status, 422, 'owner dev reaches validation: not limited');
  const single = await fetch(`${GATEWAY}/api/jobs`, {
    method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ object_key: 'uploads/none', type: 'no.such.type' }),
  });
  assert.equal(single.status, 422);
  // Owner other's batch passes again once its Retry-After has passed.
  const later = await waitFor('owner other may create again', async () => {
    const r = await batch(OTHER_KEY, junk);
    return r.status === 429 ? false : r;
  }, (retry + 5) * 1000, 250);
  assert.equal(later.status, 422);
});
