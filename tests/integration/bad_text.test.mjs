// Bytes that are not text, at every edge (issue 15, point 4): invalid UTF-8
// and NUL (raw, or escaped as \u0000) in JSON bodies, headers, tus
// metadata, paths and query arguments are refused with 400 naming the
// field, in a body that is valid UTF-8 JSON; never a 5xx, and the services
// keep serving. The notifier refuses such WebSocket messages too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocketClient from 'ws';
import { API_KEY, GATEWAY, SERVICE_URLS, TUS, assertProblem, auth, upload, waitFor } from './helpers.mjs';
import { rawHttp, strictJson } from './raw-http.mjs';

const gw = new URL(GATEWAY);

// One request as raw bytes: latin1 strings and Buffers, joined.
function request(method, path, headers, body = Buffer.alloc(0)) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${gw.host}`, 'Connection: close',
    `Content-Length: ${b.length}`];
  const head = Buffer.concat([
    Buffer.from(lines.join('\r\n') + '\r\n', 'latin1'),
    ...Object.entries(headers).map(([k, v]) => Buffer.concat([
      Buffer.from(`${k}: `, 'latin1'), Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'),
      Buffer.from('\r\n', 'latin1')])),
    Buffer.from('\r\n', 'latin1'),
  ]);
  return Buffer.concat([head, b]);
}

const AUTH = { Authorization: `Bearer ${API_KEY}` };
const JSON_CT = { ...AUTH, 'Content-Type': 'application/json' };
const FF = Buffer.from([0xff]);
const OVERLONG = Buffer.from([0xc0, 0xaf]);
const SURROGATE = Buffer.from([0xed, 0xa0, 0x80]);

// Asserts a 400 in the platform's error shape whose message names field.
function assert400(res, field, code = 'bad_request') {
  const body = strictJson(res.body);
  assert.equal(res.status, 400, JSON.stringify(body));
  assertProblem(body, 400, code);
  if (field) assert.ok(body.detail.includes(field), `'${field}' not named: ${body.detail}`);
  assert.equal(typeof body.request_id, 'string');
}

function jobBody(...parts) {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8'))));
}

let objectKey;

test('jobs: invalid UTF-8 and NUL in every field of the body are 400 naming the field', async () => {
  objectKey = (await upload(Buffer.from('text to test'))).body.object_key;
  const t = '"type":"file.inspect"';
  const cases = [
    [jobBody('{"object_key":"a', FF, '",', t, '}'), "'object_key'"],
    [jobBody('{"object_key":"a', SURROGATE, '",', t, '}'), "'object_key'"],
    [jobBody('{"object_key":"a\\u0000b",', t, '}'), "'object_key'"],
    [jobBody(`{"object_key":"${objectKey}",`, t, ',"params":{"x":"', OVERLONG, '"}}'), "'params.x'"],
    [jobBody(`{"object_key":"${objectKey}",`, t, ',"params":{"x":{"y":["ok","\\u0000"]}}}'), "'params.x.y[1]'"],
    [jobBody(`{"object_key":"${objectKey}",`, t, ',"params":{"k\\u0000":1}}'), 'key'],
    [jobBody(`{"object_key":"${objectKey}",`, t, ',"webhook_url":"http://127.0.0.1/', FF, '"}'), "'webhook_url'"],
    [jobBody(`{"object_key":"${objectKey}",`, t, ',"webhook_url":"http://127.0.0.1/\\u0000"}'), "'webhook_url'"],
  ];
  for (const [body, field] of cases) {
    assert400(await rawHttp(request('POST', '/api/jobs', JSON_CT, body)), field);
  }
  const batch = jobBody(`{"jobs":[{"object_key":"${objectKey}",`, t, '},{"object_key":"x', FF, '",', t, '}]}');
  assert400(await rawHttp(request('POST', '/api/jobs/batch', JSON_CT, batch)), "'jobs[1].object_key'");
});

test('jobs: an Idempotency-Key that is not text is 400', async () => {
  const body = JSON.stringify({ object_key: objectKey, type: 'file.inspect' });
  for (const key of [Buffer.from([0x6b, 0xff]), Buffer.from([0x6b, 0xc0, 0xaf]), Buffer.from('k\x01y', 'latin1')]) {
    assert400(await rawHttp(request('POST', '/api/jobs', { ...JSON_CT, 'Idempotency-Key': key }, body)), 'Idempotency-Key');
  }
  // A key in any language is fine.
  const ok = await rawHttp(request('POST', '/api/jobs', { ...JSON_CT, 'Idempotency-Key': Buffer.from('clé-été-1') }, body));
  assert.equal(ok.status, 202, ok.body.toString());
});

test('uploads: a presign body and a part Content-Type that are not text are 400', async () => {
  assert400(await rawHttp(request('POST', '/api/uploads/presign', JSON_CT,
    jobBody('{"size":1,"filename":"a', FF, '"}'))), "'filename'");
  assert400(await rawHttp(request('POST', '/api/uploads/presign', JSON_CT,
    '{"size":1,"filename":"a\\u0000.txt"}')), "'filename'");
  const form = Buffer.concat([
    Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/', 'latin1'),
    FF, Buffer.from('\r\n\r\nhello\r\n--XyZ--\r\n', 'latin1')]);
  assert400(await rawHttp(request('POST', '/api/uploads',
    { ...AUTH, 'Content-Type': 'multipart/form-data; boundary=XyZ' }, form)), 'Content-Type');
});

test('tus: Upload-Metadata keys and values that are not text are 400 bad_metadata', async () => {
  const b64 = (b) => Buffer.from(b).toString('base64');
  const create = (meta) => request('POST', '/api/files',
    { ...AUTH, ...TUS, 'Upload-Length': '5', 'Upload-Metadata': meta });
  assert400(await rawHttp(create(`filename ${b64(Buffer.from([0x61, 0xff]))}`)), "'filename'", 'bad_metadata');
  assert400(await rawHttp(create(`filename ${b64('a\0b')}`)), "'filename'", 'bad_metadata');
  assert400(await rawHttp(create(`filetype ${b64(SURROGATE)}`)), "'filetype'", 'bad_metadata');
  assert400(await rawHttp(create(`filetype ${b64('text/plain\x01')}`)), "'filetype'", 'bad_metadata');
  assert400(await rawHttp(create(`other ${b64(OVERLONG)},filename ${b64('a.txt')}`)), "'other'", 'bad_metadata');
  assert400(await rawHttp(create(Buffer.concat([Buffer.from('k'), FF, Buffer.from(` ${b64('v')}`)]))),
    'printable ASCII', 'bad_metadata');
  // Upload-Concat is stored as it came: a URL with a byte over 0x7e.
  assert400(await rawHttp(request('POST', '/api/files', { ...AUTH, ...TUS, 'Upload-Concat': Buffer.concat([
    Buffer.from('final;http://h'), FF, Buffer.from('/files/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10')]) })),
  'Upload-Concat', 'bad_concat');
  // Text in any language passes.
  const ok = await rawHttp(create(`filename ${b64('été.txt')}`));
  assert.equal(ok.status, 201, ok.body.toString());
});

test('paths and query arguments that are not text are 400 and never echoed raw', async () => {
  // Through the gateway and straight to each HTTP service (the notifier's
  // port too): %FF and an overlong in a path, an unknown path included.
  const paths = ['/api/jobs/%FF', '/api/job-types/a%C0%AF', '/api/uploads/%ED%A0%80/x',
    '/api/jobs?status=%FF', '/api/jobs?after=a%01'];
  for (const p of paths) {
    const res = await rawHttp(request('GET', p, AUTH));
    assert400(res, p.includes('?') ? `'${p.split('?')[1].split('=')[0]}'` : 'path');
  }
  for (const base of SERVICE_URLS.slice(0, 2)) {
    const u = new URL(base);
    const res = await rawHttp(request('GET', '/no-such-path/%FF%FE', AUTH), { host: u.hostname, port: Number(u.port) });
    assert400(res, 'path');
  }
});

test('notifier: a message with NUL gets an error frame, not UTF-8 closes with 1007', async () => {
  const url = GATEWAY.replace(/^http/, 'ws') + '/ws';
  const ws = new WebSocketClient(url);
  const got = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  // Before: the text was read up to the NUL and the subscribe accepted.
  ws.send(Buffer.from(`{"type":"subscribe","api_key":"${API_KEY}"}\0junk`), { binary: false });
  ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY + '\0' }));
  ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY }));
  const answers = () => got.filter((m) => m.type !== 'job.status' && m.type !== 'job.progress');
  await waitFor('three answers', () => answers().length >= 3, 10000, 20);
  assert.deepEqual(answers().slice(0, 3).map((m) => m.code || m.type), ['bad_request', 'bad_request', 'subscribed']);
  assert.match(answers()[0].message, /NUL/);
  ws.close();

  const bad = new WebSocketClient(url);
  await new Promise((r, j) => { bad.once('open', r); bad.once('error', j); });
  const closed = new Promise((r) => bad.once('close', (code) => r(code)));
  bad.send(Buffer.concat([Buffer.from('{"type":"subscribe","api_key":"'), FF, Buffer.from('"}')]), { binary: false });
  assert.equal(await closed, 1007);
});

// The lines of a log of the stack (RAP_STATE_DIR/logs) that name id, each
// checked to be UTF-8 (a decoder that throws on anything else) and JSON.
function logLines(name, id) {
  const text = new TextDecoder('utf-8', { fatal: true })
    .decode(readFileSync(path.join(process.env.RAP_STATE_DIR, 'logs', name)));
  return text.split('\n').filter((l) => l.includes(id)).map((l) => JSON.parse(l));
}

test('log lines stay UTF-8 JSON whatever bytes a request holds: the gateway\'s and job-api\'s', async () => {
  const id = `bad-text-log-${Date.now()}`;
  const res = await rawHttp(request('GET', '/api/jobs/a\xff\xfe%FF', {
    ...AUTH, 'X-Request-Id': id, 'User-Agent': Buffer.from([0x61, 0xff, 0xc0, 0xaf]) }));
  assert400(res, 'path');
  // nginx writes its access log at most a second late.
  const [gw] = await waitFor('the gateway\'s access log line', () => {
    const l = logLines('nginx-access.log', id);
    return l.length ? l : null;
  }, 10000);
  assert.equal(gw.uri, '(not ASCII: left out)');
  assert.equal(gw.user_agent, '(not ASCII: left out)');
  assert.equal(gw.status, 400);
  const api = await waitFor('job-api\'s log line', () => {
    const l = logLines('job-api.log', id);
    return l.length ? l : null;
  }, 10000);
  assert.ok(api.some((l) => JSON.stringify(l).includes('\\xff')), 'the bad bytes are written as \\xNN');
});

test('after the bad text every service still serves, and none answered 5xx', async () => {
  for (const base of SERVICE_URLS) {
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, `${base}/readyz`);
  }
  const up = await upload(Buffer.from('still here'));
  assert.equal(up.status, 201);
  const res = await fetch(`${GATEWAY}/api/jobs`, {
    method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ object_key: up.body.object_key, type: 'file.inspect' }),
  });
  assert.equal(res.status, 202);
});
