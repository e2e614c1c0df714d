// Errors as RFC 9457 problem details (issue 16, point 6): a sample of the
// errors of each service, of the notifier and of the gateway, each checked
// for Content-Type application/problem+json and the members type, title,
// status (equal to the HTTP status), detail, code and request_id; and the
// type of each resolves on the gateway (/problems/CODE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, GATEWAY, OTHER_KEY, TUS, assertProblem, auth, upload, waitFor } from './helpers.mjs';
import { rawHttp } from './raw-http.mjs';

const env = process.env;
const UPLOAD_PORT = Number(env.RAP_UPLOAD_PORT || 8101);
const JOB_PORT = Number(env.RAP_JOB_PORT || 8102);
const NOTIFIER_PORT = Number(env.RAP_NOTIFIER_PORT || 8103);
const host = new URL(GATEWAY).host;
const NIL = '00000000-0000-4000-8000-000000000000';
const seen = new Set();

// Asserts a fetch answer is the problem of status and code; returns its body.
async function problem(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json$/, text);
  const body = JSON.parse(text);
  assertProblem(body, status, code);
  assert.equal(res.headers.get('x-request-id'), body.request_id);
  seen.add(code);
  return body;
}

// The same for a raw answer (rawHttp: headers lower-cased, each a list).
function rawProblem(res, status, code) {
  assert.equal(res.status, status, res.body.toString());
  assert.match(res.headers['content-type']?.[0] ?? '', /^application\/problem\+json$/);
  const body = JSON.parse(res.body.toString('utf8'));
  assertProblem(body, status, code);
  seen.add(code);
  return body;
}

const raw = (port, text) => rawHttp(Buffer.from(text, 'latin1'), { host: '127.0.0.1', port });

test('upload-api: 400, 404 and 413 are problem+json', async () => {
  await problem(await fetch(`${GATEWAY}/api/files`, { method: 'POST', headers: { ...auth(), ...TUS } }),
    400, 'bad_request');
  await problem(await fetch(`${GATEWAY}/api/uploads/${NIL}`, { headers: auth() }), 404, 'not_found');
  await problem(await fetch(`${GATEWAY}/api/files`, {
    method: 'POST', headers: { ...auth(), ...TUS, 'Upload-Length': String(2 ** 52) },
  }), 413, 'payload_too_large');
  await problem(await fetch(`${GATEWAY}/api/uploads/${NIL}`), 401, 'unauthorized');
});

test('job-api: 400, 404, 409 and 429 are problem+json', async () => {
  await problem(await fetch(`${GATEWAY}/api/jobs/not-a-uuid`, { headers: auth() }), 400, 'bad_request');
  await problem(await fetch(`${GATEWAY}/api/jobs/${NIL}`, { headers: auth() }), 404, 'not_found');
  const up = await upload(Buffer.from('problem details\n'), { filename: 'p.txt' });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const create = (body) => fetch(`${GATEWAY}/api/jobs`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json', 'Idempotency-Key': `problems-${up.body.upload_id}` },
    body: JSON.stringify(body),
  });
  const first = await create({ object_key: up.body.object_key, type: 'file.inspect' });
  assert.equal(first.status, 202, await first.text());
  await problem(await create({ object_key: up.body.object_key, type: 'file.inspect', max_attempts: 2 }),
    409, 'idempotency_conflict');
  // Owner other's bucket (RAP_JOB_CREATE_BURST=3000 in scripts/test) runs
  // dry within a few batches of 1000 jobs of an unknown type.
  const batch = (n) => fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST', headers: { ...auth(OTHER_KEY), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: Array.from({ length: n }, () => ({ object_key: 'uploads/none', type: 'no.such.type' })) }),
  });
  let limited;
  for (let i = 0; i < 20 && !limited; i++) {
    const r = await batch(1000);
    if (r.status === 429) limited = r;
    else assert.equal(r.status, 422, await r.text());
  }
  assert.ok(limited, 'the bucket ran dry within 20 batches of 1000');
  await problem(limited, 429, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  // Leave the bucket as it was found for the tests that follow.
  await waitFor("owner other's bucket refilled", async () => (await batch(1)).status === 422, 15000, 200);
});

test('notifier: 400 and 404 are problem+json', async () => {
  rawProblem(await raw(NOTIFIER_PORT, 'GET /no-such-path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    404, 'not_found');
  rawProblem(await raw(NOTIFIER_PORT, '\x01GARBAGE\x02 !!\r\n\r\n'), 400, 'bad_request');
});

test("the HTTP servers' own framing errors are problem+json", async () => {
  for (const [port, post] of [[UPLOAD_PORT, '/uploads/presign'], [JOB_PORT, '/jobs']]) {
    rawProblem(await raw(port, `POST ${post} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n'), 400, 'bad_request');
    rawProblem(await raw(port, 'GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n'), 505, 'http_version_not_supported');
  }
});

// (The gateway's own 413 is upload_limits.test.mjs's: a raw request that
// announces a body and sends none holds nginx's lingering close for 5 s,
// and the next large upload through it then met EPIPE.)
test("the gateway's own 400 and 404 are problem+json", async () => {
  rawProblem(await rawHttp(Buffer.from('GARBAGE\r\n\r\n')), 400, 'bad_request');
  await problem(await fetch(`${GATEWAY}/api/no-such-route`, { headers: auth() }), 404, 'not_found');
});

test('the type of every problem seen resolves on the gateway to the page of its code', async () => {
  for (const code of new Set([...seen, 'bad_request', 'not_found', 'unavailable', 'too_many_connections'])) {
    const res = await fetch(`${GATEWAY}/problems/${code}`);
    assert.equal(res.status, 200, code);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok((await res.text()).includes(`id="${code}"`), `the page describes ${code}`);
  }
  await problem(await fetch(`${GATEWAY}/problems/Not-A-Code`), 404, 'not_found');
});
