// Upload limits and broken clients on the streaming path: a body over
// RAP_UPLOAD_MAX_BYTES is refused with 413 (announced: before a byte is
// read; chunked: as soon as it passes the limit), a client that vanishes
// mid-upload leaves nothing behind, and neither leaves an object in S3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, assertError, auth, upload, waitFor } from './helpers.mjs';

const LIMIT = Number(process.env.RAP_UPLOAD_MAX_BYTES || 10 * 2 ** 30);
const S3 = `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}/${process.env.RAP_S3_BUCKET || 'rap-data'}`;
const MiB = 1024 * 1024;

// The keys under uploads/ in the bucket (s3rver answers unsigned listings).
async function objectKeys() {
  const keys = [];
  let token = '';
  for (;;) {
    const xml = await (await fetch(`${S3}?list-type=2&prefix=uploads/${token}`)).text();
    keys.push(...[...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]));
    const next = /<NextContinuationToken>([^<]+)</.exec(xml);
    if (!next) return keys;
    token = `&continuation-token=${encodeURIComponent(next[1])}`;
  }
}

// A multipart/form-data body of `size` file bytes, produced as it is sent;
// with abortAfter, the client gives up once that many bytes went out.
function streamingUpload(size, { abortAfter } = {}) {
  const boundary = 'rapLimitTest';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n`
    + 'Content-Type: application/octet-stream\r\n\r\n');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = Buffer.alloc(MiB, 7);
  const controller = new AbortController();
  let sent = 0;
  const body = new ReadableStream({
    start(c) { c.enqueue(head); },
    pull(c) {
      if (abortAfter && sent >= abortAfter) { controller.abort(); return; }
      if (sent >= size) { c.enqueue(tail); c.close(); return; }
      const n = Math.min(MiB, size - sent);
      sent += n;
      c.enqueue(n === MiB ? chunk : chunk.subarray(0, n));
    },
  });
  const res = fetch(`${GATEWAY}/api/uploads`, {
    method: 'POST', body, duplex: 'half', signal: controller.signal,
    headers: { ...auth(), 'Content-Type': `multipart/form-data; boundary=${boundary}` },
  });
  return { res, sent: () => sent };
}

test('a body announced over the limit is 413 before it is read', { skip: LIMIT > 256 * MiB && 'RAP_UPLOAD_MAX_BYTES is too large to test here' }, async () => {
  const before = (await objectKeys()).length;
  const big = new Blob([Buffer.alloc(LIMIT + MiB)]);
  const form = new FormData();
  form.append('file', big, 'big.bin');
  const res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', headers: auth(), body: form });
  // The gateway's own 413, as problem+json (issue 16, point 6).
  assertError({ status: res.status, body: await res.json(), headers: res.headers }, 413, 'payload_too_large');
  assert.equal((await objectKeys()).length, before, 'no object was stored');
});

test('a chunked body is 413 as soon as it passes the limit; nothing is stored', { skip: LIMIT > 256 * MiB && 'RAP_UPLOAD_MAX_BYTES is too large to test here' }, async () => {
  const before = (await objectKeys()).length;
  const up = streamingUpload(LIMIT * 3);
  let status, json;
  try {
    const res = await up.res;
    status = res.status;
    json = await res.json();
  } catch (e) {
    // The gateway may close the connection while the client still sends.
    status = 413;
    json = null;
  }
  assert.equal(status, 413, JSON.stringify(json));
  if (json) assert.equal(json.code, 'payload_too_large');
  assert.ok(up.sent() < LIMIT * 2, `the client sent ${up.sent()} bytes before it was stopped`);
  assert.equal((await objectKeys()).length, before, 'no object was stored');
});

test('a client that disconnects mid-upload leaves no object, and uploads go on', async () => {
  const before = (await objectKeys()).length;
  const up = streamingUpload(64 * MiB, { abortAfter: 12 * MiB });
  await assert.rejects(up.res);
  // upload-api notices the cut, aborts the S3 multipart upload, records
  // nothing; the next upload is served as usual.
  await waitFor('the interrupted upload is cleaned up', async () => {
    const m = await (await fetch(`http://127.0.0.1:${process.env.RAP_UPLOAD_PORT || 8101}/metrics`)).text();
    return /^rap_uploads_in_flight 0$/m.test(m);
  }, 20000, 100);
  assert.equal((await objectKeys()).length, before, 'no object was stored');
  const ok = await upload(Buffer.from('after the cut'));
  assert.equal(ok.status, 201);
  assert.equal((await objectKeys()).length, before + 1);
});

test('a job_type field before the file has the content checked while streaming: 415, nothing in S3', async () => {
  const before = new Set(await objectKeys());
  // test.fault takes only text (RAP_JOB_CONTENT_TYPES in scripts/test).
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(12 * MiB, 7)]);
  const form = new FormData();
  form.append('job_type', 'test.fault');
  form.append('file', new Blob([png]), 'image.png');
  let res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', headers: auth(), body: form });
  assertError({ status: res.status, body: await res.json() }, 415, 'unsupported_content');
  assert.deepEqual((await objectKeys()).filter((k) => !before.has(k)), [], 'no object left');

  const text = new FormData();
  text.append('job_type', 'test.fault');
  text.append('file', new Blob(['just some words\n'.repeat(100)]), 'notes.txt');
  res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', headers: auth(), body: text });
  assert.equal(res.status, 201);

  const unknown = new FormData();
  unknown.append('job_type', 'no.such.type');
  unknown.append('file', new Blob(['x']), 'x.txt');
  res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', headers: auth(), body: unknown });
  assertError({ status: res.status, body: await res.json() }, 422, 'unknown_job_type');
});
