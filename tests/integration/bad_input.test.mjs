// Bad input gets a clear JSON error with the right status, and the services
// keep serving afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_KEY, GATEWAY, OTHER_KEY, SERVICE_URLS, WebSocket, assertError, auth, createJob, getJob,
  sha256, upload, waitFor,
} from './helpers.mjs';

async function post(path, body, headers = {}) {
  const res = await fetch(`${GATEWAY}${path}`, { method: 'POST', headers: { ...auth(), ...headers }, body });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = { raw: text }; }
  return { status: res.status, body: json };
}

const MP = 'multipart/form-data; boundary=XyZ';

test('uploads: missing or unknown API key is 401', async () => {
  const form = new FormData();
  form.append('file', new Blob(['x']), 'x');
  let res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', body: form });
  assertError({ status: res.status, body: await res.json() }, 401, 'unauthorized');
  res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', body: form, headers: auth('wrong-key') });
  assertError({ status: res.status, body: await res.json() }, 401, 'unauthorized');
});

test('uploads: a body that is not multipart is 415', async () => {
  assertError(await post('/api/uploads', '{"a":1}', { 'Content-Type': 'application/json' }), 415);
  assertError(await post('/api/uploads', 'x', { 'Content-Type': 'multipart/form-data' }), 415);
});

test('uploads: a form without a file field is 400 missing_file', async () => {
  const body = '--XyZ\r\nContent-Disposition: form-data; name="other"\r\n\r\nhello\r\n--XyZ--\r\n';
  assertError(await post('/api/uploads', body, { 'Content-Type': MP }), 400, 'missing_file');
});

test('uploads: broken and truncated multipart bodies are 400 bad_multipart', async () => {
  assertError(await post('/api/uploads', 'this is not multipart at all', { 'Content-Type': MP }), 400, 'bad_multipart');
  const cut = '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nhalf a fi';
  assertError(await post('/api/uploads', cut, { 'Content-Type': MP }), 400, 'bad_multipart');
  const noHeaderEnd = '--XyZ\r\nContent-Disposition: form-data; name="file"';
  assertError(await post('/api/uploads', noHeaderEnd, { 'Content-Type': MP }), 400, 'bad_multipart');
});

// Issue 15, point 6: Content-Disposition parameters as RFC 7578 / RFC 2183
// (and browsers, and the common server parsers) read them.
test('uploads: a name= inside a quoted filename is not a parameter: that part is the field "other", not the file', async () => {
  const smuggled = '--XyZ\r\nContent-Disposition: form-data; filename="a;name=file;"; name="other"\r\n\r\n'
    + 'not the upload\r\n--XyZ--\r\n';
  assertError(await post('/api/uploads', smuggled, { 'Content-Type': MP }), 400, 'missing_file');
});

test('uploads: a part that repeats name or filename is 400 bad_multipart, not first- or last-wins', async () => {
  for (const disp of ['form-data; name="other"; name="file"; filename="a"', 'form-data; name="file"; filename="a"; FILENAME="b"']) {
    const body = `--XyZ\r\nContent-Disposition: ${disp}\r\n\r\nx\r\n--XyZ--\r\n`;
    const res = await post('/api/uploads', body, { 'Content-Type': MP });
    assertError(res, 400, 'bad_multipart');
    assert.match(res.body.detail, /repeats a parameter/);
  }
});

test('uploads: quoted filenames keep their ";", escaped quotes and unescaped Windows paths', async () => {
  const send = async (filename) => {
    const body = `--XyZ\r\nContent-Disposition: form-data; NAME="file"; FileName="${filename}"\r\n`
      + 'Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n';
    const res = await post('/api/uploads', body, { 'Content-Type': MP });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.filename;
  };
  assert.equal(await send('x;name=y.txt'), 'x_name_y.txt');
  assert.equal(await send('C:\\dir\\report.txt'), 'report.txt');
  assert.equal(await send('say \\"hi\\".txt'), 'say__hi_.txt');
});

test('uploads: an empty body is 400', async () => {
  assertError(await post('/api/uploads', '', { 'Content-Type': MP }), 400, 'bad_multipart');
});

test('uploads: unknown endpoints and methods are JSON errors', async () => {
  let res = await fetch(`${GATEWAY}/api/uploads`, { headers: auth() });
  assertError({ status: res.status, body: await res.json() }, 405);
  res = await fetch(`${GATEWAY}/api/uploads/not-a-uuid`, { headers: auth() });
  assertError({ status: res.status, body: await res.json() }, 400);
  res = await fetch(`${GATEWAY}/api/uploads/00000000-0000-4000-8000-000000000000`, { headers: auth() });
  assertError({ status: res.status, body: await res.json() }, 404);
});

test('jobs: malformed JSON, wrong media type and bad fields are 400/415', async () => {
  assertError(await createJob('{"object_key": '), 400, 'bad_request');
  assertError(await createJob(''), 400, 'bad_request');
  assertError(await createJob('[]'), 400, 'bad_request');
  assertError(await createJob({ type: 'file.inspect' }), 400, 'bad_request');
  assertError(await createJob({ object_key: 'k', type: 'file.inspect', extra: 1 }), 400, 'bad_request');
  assertError(await post('/api/jobs', '{"object_key":"k","type":"file.inspect"}', { 'Content-Type': 'text/plain' }), 415);
  const big = JSON.stringify({ object_key: 'k', type: 'file.inspect', params: { pad: 'x'.repeat(2 * 1024 * 1024) } });
  assertError(await createJob(big), 413);
});

test('jobs: unknown job type and unknown object_key are 422', async () => {
  const up = await upload(Buffer.from('hello'));
  assertError(await createJob({ object_key: up.body.object_key, type: 'video.transcode' }), 422, 'unknown_job_type');
  assertError(await createJob({ object_key: 'uploads/00000000-0000-4000-8000-000000000000', type: 'file.inspect' }), 422, 'unknown_object');
  // Another owner's upload is as unknown as a missing one.
  assertError(await createJob({ object_key: up.body.object_key, type: 'file.inspect' }, { key: OTHER_KEY }), 422, 'unknown_object');
});

test('jobs: malformed, unknown and foreign job ids are 400/404', async () => {
  assertError(await getJob('not-a-uuid'), 400, 'bad_request');
  assertError(await getJob('00000000-0000-4000-8000-000000000000'), 404, 'not_found');
  const up = await upload(Buffer.from('mine'));
  const created = await createJob({ object_key: up.body.object_key, type: 'file.inspect' });
  assert.equal(created.status, 202);
  assertError(await getJob(created.body.job_id, OTHER_KEY), 404, 'not_found');
  const res = await fetch(`${GATEWAY}/api/jobs/${created.body.job_id}`, {});
  assertError({ status: res.status, body: await res.json() }, 401);
});

test('notifier: bad subscribe messages get error frames and the socket stays usable', async () => {
  const ws = new WebSocket(GATEWAY.replace(/^http/, 'ws') + '/ws');
  const got = [];
  ws.addEventListener('message', (e) => got.push(JSON.parse(e.data)));
  await new Promise((r) => ws.addEventListener('open', r, { once: true }));
  ws.send('not json');
  ws.send(JSON.stringify({ type: 'subscribe', api_key: 'wrong-key' }));
  ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY, job_id: 'nope' }));
  ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY, job_id: '00000000-0000-4000-8000-000000000000' }));
  ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY }));
  // Live events of earlier tests' jobs may arrive too: only answers count.
  const answers = () => got.filter((m) => m.type !== 'job.status');
  await waitFor('five answers', () => answers().length >= 5, 10000, 20);
  assert.deepEqual(answers().map((m) => m.code || m.type),
    ['bad_request', 'unauthorized', 'bad_request', 'not_found', 'subscribed']);
  ws.close();
});

test('after all the bad input every service is still ready and serves a real upload', async () => {
  for (const base of SERVICE_URLS) {
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, `${base}/readyz`);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# HELP /m);
  }
  // Unknown paths on each service are JSON errors in the one shape.
  for (const base of SERVICE_URLS) {
    const r = await fetch(`${base}/no-such-path`);
    assertError({ status: r.status, body: await r.json() }, 404, 'not_found');
  }
  const data = Buffer.from('still alive');
  const up = await upload(data);
  assert.equal(up.status, 201);
  assert.equal(up.body.sha256, sha256(data));
});
