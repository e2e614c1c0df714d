// Several upload-api instances, no sticky sessions: the test starts a second
// upload-api next to the stack's own (same PostgreSQL, same bucket) and
// sends the requests of one tus upload to both. Its S3 traffic goes through
// a recorder, so the tests can also see the S3 calls the S3 API reference
// asks for where s3rver cannot show their effect: AbortMultipartUpload of an
// upload nobody will complete (s3rver answers it 405 and keeps the parts;
// AWS and MinIO free them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { GATEWAY, TUS, auth, idOf, randomBytes, sha256, startUploadApi, waitFor } from './helpers.mjs';

const MiB = 1024 * 1024;
const PART = Number(process.env.RAP_UPLOAD_PART_SIZE || 8 * MiB);
const S3_PORT = Number(process.env.RAP_S3_PORT || 9100);
const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
  '-U', 'postgres', '-d', 'rap', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();

// An HTTP proxy to s3rver that remembers "METHOD /path?query" of each
// request as it arrives (calls) and once s3rver has answered it (done).
// breakNext(pred, after) makes it cut the next request that matches once
// `after` body bytes of it went through (an S3 server dropping a request).
function s3Recorder() {
  const calls = [], done = [], bytes = new Map();
  // No keep-alive to s3rver: an idle pooled socket would keep this test
  // file's process alive after its last test.
  const agent = new http.Agent({ keepAlive: false });
  let breaker = null;
  const server = http.createServer((req, res) => {
    const call = `${req.method} ${req.url}`;
    calls.push(call);
    req.on('data', (d) => bytes.set(call, (bytes.get(call) || 0) + d.length));
    const up = http.request({ host: '127.0.0.1', port: S3_PORT, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
      r.on('end', () => done.push(call));
    });
    up.on('error', () => res.destroy());
    if (breaker && breaker.pred(call)) {
      const { after } = breaker;
      breaker = null;
      let seen = 0;
      req.on('data', (d) => {
        seen += d.length;
        if (seen >= after) { up.destroy(); req.socket.destroy(); }
      });
    }
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    endpoint: `http://127.0.0.1:${server.address().port}`,
    calls, done, bytes,
    breakNext: (pred, after) => { breaker = { pred, after }; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); agent.destroy(); }),
  })));
}

// A second upload-api on a port of its own, its S3 through `s3`.
const startInstance = (s3, env = {}) => startUploadApi(s3.endpoint, env, 'the second upload-api');

let s3, second;
before(async () => {
  s3 = await s3Recorder();
  second = await startInstance(s3);
});
after(async () => {
  await second?.stop();
  await s3?.close();
});

// tus requests against a base URL: the gateway (`${GATEWAY}/api`) or an
// instance itself (its paths have no /api prefix).
async function tus(base, method, id, { offset, body, headers = {} } = {}) {
  const h = { ...TUS, ...auth(), ...headers };
  if (offset !== undefined) {
    h['Upload-Offset'] = String(offset);
    h['Content-Type'] = 'application/offset+octet-stream';
  }
  const res = await fetch(`${base}/files/${id}`, { method, headers: h, body });
  return { status: res.status, headers: res.headers, offset: Number(res.headers.get('upload-offset')), body: await res.text() };
}

async function createUpload(base, length, headers = {}) {
  const r = await tus(base, 'POST', '', { headers: { 'Upload-Length': String(length), ...headers } });
  assert.equal(r.status, 201, r.body);
  return idOf(r.headers.get('location'));
}

// A PATCH that sends `first` bytes and then waits until `finish()` (or
// `cut()`, which drops the connection).
function heldPatch(base, id, data, first, offset = 0) {
  const u = new URL(`${base}/files/${id}`);
  const req = http.request({
    host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH',
    headers: { ...TUS, ...auth(), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), 'Content-Length': data.length },
  });
  const answer = new Promise((resolve) => {
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res)); });
    req.on('error', () => resolve(null));
  });
  req.write(data.subarray(0, first));
  let sent = first;
  return {
    answer,
    more: (n) => { req.write(data.subarray(sent, sent + n)); sent += n; },
    finish: () => req.end(data.subarray(sent)),
    cut: () => req.destroy(),
  };
}

const advisoryLocks = () => Number(psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"));
const uploadIdOf = (call) => /uploadId=([^&\s]+)/.exec(call)?.[1];

test('one tus upload served by two instances in turn: HEAD on either tells the same offset, sha256 matches', async () => {
  const data = randomBytes(3 * PART + 12345);
  const gw = `${GATEWAY}/api`;
  const id = await createUpload(gw, data.length);
  // First PATCH through the gateway (the stack's instance), the next on the
  // second instance, the last through the gateway again.
  const cuts = [0, PART + 100, 2 * PART + 7, data.length];
  const bases = [gw, second.url, gw];
  for (let i = 0; i < 3; i++) {
    const r = await tus(bases[i], 'PATCH', id, { offset: cuts[i], body: data.subarray(cuts[i], cuts[i + 1]) });
    assert.equal(r.status, 204, r.body);
    assert.equal(r.offset, cuts[i + 1]);
    if (i < 2) {
      assert.equal((await tus(gw, 'HEAD', id)).offset, cuts[i + 1], 'the gateway instance sees the offset');
      assert.equal((await tus(second.url, 'HEAD', id)).offset, cuts[i + 1], 'the second instance sees it too');
    }
  }
  const info = await (await fetch(`${second.url}/uploads/${id}`, { headers: auth() })).json();
  assert.equal(info.state, 'COMPLETE');
  assert.equal(info.size, data.length);
  assert.equal(info.sha256, sha256(data));
});

test('a PATCH on one instance locks the upload on the other: 423, then the first finishes intact', async () => {
  const data = randomBytes(2 * MiB);
  const id = await createUpload(`${GATEWAY}/api`, data.length);
  const held = heldPatch(`${GATEWAY}/api`, id, data, MiB);
  await waitFor('the first PATCH holds the lock', () => advisoryLocks() > 0, 10000, 20);
  const r = await tus(second.url, 'PATCH', id, { offset: 0, body: data.subarray(0, 10) });
  assert.equal(r.status, 423, r.body);
  assert.equal(JSON.parse(r.body).code, 'locked');
  assert.equal((await tus(second.url, 'DELETE', id)).status, 423, 'termination waits for the lock too');
  held.finish();
  const res = await held.answer;
  assert.equal(res.statusCode, 204);
  const info = await (await fetch(`${GATEWAY}/api/uploads/${id}`, { headers: auth() })).json();
  assert.equal(info.sha256, sha256(data));
});

test('an instance killed mid-PATCH leaves no lock: the other instance resumes from the stored part', async () => {
  const data = randomBytes(PART + 3 * MiB);
  const id = await createUpload(`${GATEWAY}/api`, data.length);
  const victim = await startInstance(s3);
  try {
    const from = s3.done.length;
    const held = heldPatch(victim.url, id, data, PART + MiB);
    await waitFor('S3 has the first part', () => s3.done.slice(from).some((c) => c.includes(`uploads/${id}?partNumber=1&`)), 20000, 20);
    // With parts in flight, a part is booked as the next bytes arrive.
    held.more(1024);
    await waitFor('the first part is recorded', async () => (await tus(`${GATEWAY}/api`, 'HEAD', id)).offset === PART, 20000, 50);
    await victim.stop('SIGKILL');
    held.cut();
    // PostgreSQL drops the killed session and its lock with it.
    await waitFor('the lock is gone', () => advisoryLocks() === 0, 20000, 50);
    const h = await tus(`${GATEWAY}/api`, 'HEAD', id);
    assert.equal(h.offset, PART, 'the bytes after the stored part died with the process');
    const r = await tus(`${GATEWAY}/api`, 'PATCH', id, { offset: PART, body: data.subarray(PART) });
    assert.equal(r.status, 204, r.body);
    const info = await (await fetch(`${GATEWAY}/api/uploads/${id}`, { headers: auth() })).json();
    assert.equal(info.sha256, sha256(data));
  } finally {
    await victim.stop('SIGKILL');
  }
});

test('a PATCH refused by its checksum aborts the S3 multipart upload it began; the next PATCH begins another', async () => {
  const data = randomBytes(PART + MiB);
  const id = await createUpload(second.url, data.length);
  const from = s3.calls.length;
  const wrong = crypto.createHash('sha1').update('something else').digest('base64');
  let r = await tus(second.url, 'PATCH', id, { offset: 0, body: data, headers: { 'Upload-Checksum': `sha1 ${wrong}` } });
  assert.equal(r.status, 460, r.body);
  // The answer may come while the part is still on its way to S3.
  const part = await waitFor('its first part was sent', () =>
    s3.calls.slice(from).find((c) => c.startsWith(`PUT /rap-data/uploads/${id}?partNumber=1&`)), 10000, 20);
  assert.ok(s3.calls.slice(from).some((c) => c.startsWith(`POST /rap-data/uploads/${id}?uploads`)), 'a multipart upload was begun');
  const uid = uploadIdOf(part);
  await waitFor('the unrecorded multipart upload is aborted', () =>
    s3.calls.slice(from).includes(`DELETE /rap-data/uploads/${id}?uploadId=${uid}`), 10000, 20);
  assert.equal((await tus(second.url, 'HEAD', id)).offset, 0, 'nothing of the PATCH counts');

  const next = s3.calls.length;
  r = await tus(second.url, 'PATCH', id, { offset: 0, body: data });
  assert.equal(r.status, 204, r.body);
  const again = s3.calls.slice(next).find((c) => c.includes('partNumber=1'));
  assert.notEqual(uploadIdOf(again), uid, 'a new multipart upload');
  assert.ok(!s3.calls.slice(next).some((c) => c.startsWith('DELETE ') && c.includes('uploadId=')), 'the completed one is not aborted');
  const info = await (await fetch(`${second.url}/uploads/${id}`, { headers: auth() })).json();
  assert.equal(info.sha256, sha256(data));
});

test('a streamed upload whose client goes away aborts its S3 multipart upload', async () => {
  const from = s3.calls.length;
  const boundary = 'rapAbortTest';
  const u = new URL(`${second.url}/uploads`);
  const req = http.request({
    host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
    headers: { ...auth(), 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': 64 * MiB },
  });
  req.on('error', () => {});
  req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`);
  req.write(randomBytes(PART + MiB));
  await waitFor('a part is on its way to S3', () => s3.calls.slice(from).some((c) => c.includes('partNumber=1')), 20000, 20);
  req.destroy();
  const part = s3.calls.slice(from).find((c) => c.includes('partNumber=1'));
  const uid = uploadIdOf(part);
  await waitFor('the multipart upload is aborted', () =>
    s3.calls.slice(from).some((c) => c.startsWith('DELETE ') && c.endsWith(`?uploadId=${uid}`)), 20000, 20);
});

test('a part that is sure to fill is on its way to S3 while it fills; a PATCH cut inside it loses no byte', async () => {
  const data = randomBytes(2 * PART + 4321);
  const id = await createUpload(second.url, data.length);
  const from = s3.calls.length;
  // The PATCH announces the whole file but sends half a part and waits.
  const held = heldPatch(second.url, id, data, PART / 2);
  const part1 = await waitFor('part 1 is on the wire before its bytes are all here', () =>
    s3.calls.slice(from).find((c) => c.startsWith(`PUT /rap-data/uploads/${id}?partNumber=1&`)), 10000, 20);
  held.more(PART / 4);
  // S3 sees the bytes as they arrive: once it has 3/4 of the part, so has
  // upload-api. Then the client goes away inside part 1: that request is
  // given up and the bytes that came are kept as the tail.
  await waitFor('S3 got 3/4 of part 1', () => (s3.bytes.get(part1) || 0) >= PART * 3 / 4, 10000, 20);
  held.cut();
  await held.answer;
  await waitFor('the interrupted PATCH is saved', async () => (await tus(second.url, 'HEAD', id)).offset === PART * 3 / 4 && advisoryLocks() === 0, 20000, 50);
  const r = await tus(second.url, 'PATCH', id, { offset: PART * 3 / 4, body: data.subarray(PART * 3 / 4) });
  assert.equal(r.status, 204, r.body);
  const info = await (await fetch(`${second.url}/uploads/${id}`, { headers: auth() })).json();
  assert.equal(info.sha256, sha256(data));
});

test('S3 dropping a part request mid-way costs nothing: the buffered part is sent again', async () => {
  const data = randomBytes(2 * PART + 99);
  const id = await createUpload(second.url, data.length);
  const from = s3.calls.length;
  s3.breakNext((c) => c.startsWith(`PUT /rap-data/uploads/${id}?partNumber=1&`), MiB);
  const r = await tus(second.url, 'PATCH', id, { offset: 0, body: data });
  assert.equal(r.status, 204, r.body);
  const part1 = s3.calls.slice(from).filter((c) => c.startsWith(`PUT /rap-data/uploads/${id}?partNumber=1&`));
  assert.equal(part1.length, 2, `part 1 was sent again: ${s3.calls.slice(from).join(', ')}`);
  const info = await (await fetch(`${second.url}/uploads/${id}`, { headers: auth() })).json();
  assert.equal(info.state, 'COMPLETE');
  assert.equal(info.sha256, sha256(data));
});

test('a streamed upload over the size limit aborts its S3 multipart upload (413)', async () => {
  const limit = Number(process.env.RAP_UPLOAD_MAX_BYTES || 0);
  if (!limit || limit > 256 * MiB) return; // scripts/test sets a small limit
  const from = s3.calls.length;
  const boundary = 'rapLimitAbort';
  const u = new URL(`${second.url}/uploads`);
  const chunk = randomBytes(MiB);
  const answer = new Promise((resolve) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      headers: { ...auth(), 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    }, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b })); });
    req.on('error', () => resolve({ status: 'cut' }));
    (async () => {
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`);
      for (let sent = 0; sent <= limit; sent += MiB)
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      req.end(`\r\n--${boundary}--\r\n`);
    })();
  });
  const res = await answer;
  if (res.status !== 'cut') {
    assert.equal(res.status, 413, res.body);
    assert.equal(JSON.parse(res.body).code, 'payload_too_large');
  }
  const uid = uploadIdOf(s3.calls.slice(from).find((c) => c.includes('partNumber=1')));
  await waitFor('the multipart upload is aborted', () =>
    s3.calls.slice(from).some((c) => c.startsWith('DELETE ') && c.endsWith(`?uploadId=${uid}`)), 20000, 20);
  assert.ok(!s3.calls.slice(from).some((c) => c.startsWith('POST ') && c.includes(`uploadId=${uid}`)), 'never completed');
});

test('termination aborts the S3 multipart upload of the unfinished upload', async () => {
  const data = randomBytes(PART + MiB);
  const id = await createUpload(second.url, 3 * PART);
  assert.equal((await tus(second.url, 'PATCH', id, { offset: 0, body: data })).status, 204);
  const part = s3.calls.find((c) => c.startsWith(`PUT /rap-data/uploads/${id}?partNumber=1&`));
  const from = s3.calls.length;
  assert.equal((await tus(second.url, 'DELETE', id)).status, 204);
  assert.ok(s3.calls.slice(from).includes(`DELETE /rap-data/uploads/${id}?uploadId=${uploadIdOf(part)}`), s3.calls.slice(from).join(', '));
  assert.ok(s3.calls.slice(from).includes(`DELETE /rap-data/tus/${id}/tail-${PART}`), 'the tail object is deleted');
});

test('a request sent right after the answer to a PATCH never meets that PATCH\'s lock', async () => {
  const data = randomBytes(64 * 1024);
  const id = await createUpload(second.url, data.length + 1);
  for (let o = 0; o < data.length; o += 4096) {
    const r = await tus(second.url, 'PATCH', id, { offset: o, body: data.subarray(o, o + 4096) });
    assert.equal(r.status, 204, `PATCH at ${o}: ${r.status} ${r.body}`);
  }
  assert.equal((await tus(second.url, 'DELETE', id)).status, 204);
});

test('past RAP_UPLOAD_MAX_ACTIVE an instance answers 503 busy with Retry-After, and serves again once a place frees', async (t) => {
  const one = await startInstance(s3, { RAP_UPLOAD_MAX_ACTIVE: '1' });
  t.after(() => one.stop());
  const metric = async () => Number(/^rap_uploads_busy_total (\d+)$/m.exec(await (await fetch(`${one.url}/metrics`)).text())?.[1]);
  const data = randomBytes(2 * MiB);
  const a = await createUpload(one.url, data.length);
  const b = await createUpload(one.url, data.length);
  // A PATCH that stays open holds the only place.
  const held = heldPatch(one.url, a, data, MiB);
  await waitFor('the held PATCH is streaming', () => advisoryLocks() > 0, 10000, 20);
  const busy = await tus(one.url, 'PATCH', b, { offset: 0, body: data });
  assert.equal(busy.status, 503, busy.body);
  assert.equal(JSON.parse(busy.body).code, 'busy');
  assert.equal(busy.headers.get('retry-after'), '2');
  assert.equal(busy.headers.get('tus-resumable'), '1.0.0');
  assert.equal((await tus(one.url, 'HEAD', b)).offset, 0, 'nothing of the refused PATCH was stored');
  // A streamed upload is refused the same way, and HEAD is never limited.
  const form = new FormData();
  form.append('file', new Blob([data.subarray(0, 1000)]), 'x.bin');
  const streamed = await fetch(`${one.url}/uploads`, { method: 'POST', headers: auth(), body: form });
  assert.equal(streamed.status, 503);
  assert.equal((await streamed.json()).code, 'busy');
  assert.equal(await metric(), 2);
  // The place frees when the held PATCH ends; the refused one goes through.
  held.finish();
  assert.equal((await held.answer).statusCode, 204);
  const again = await tus(one.url, 'PATCH', b, { offset: 0, body: data });
  assert.equal(again.status, 204, again.body);
  assert.equal(again.offset, data.length);
  // The place is free by the time an answer arrives: a client that sends
  // its next upload at once never meets its own previous one.
  for (let i = 0; i < 25; i++) {
    const r = await fetch(`${one.url}/uploads`, { method: 'POST', headers: auth(), body: form });
    assert.equal(r.status, 201, `upload ${i}: ${await r.text()}`);
    await r.arrayBuffer().catch(() => {});
  }
  for (let i = 0; i < 25; i++) {
    const c = await createUpload(one.url, 4096);
    const r = await tus(one.url, 'PATCH', c, { offset: 0, body: data.subarray(0, 4096) });
    assert.equal(r.status, 204, `PATCH ${i}: ${r.body}`);
  }
});
