// The gateway's own errors (issue 15, points 5 and 3, gateway side): what
// nginx refuses before any service sees it answers in the platform's JSON
// error shape with the right status, and the request id is the client's
// only when it is a plain token, sent back once. Raw sockets: fetch would
// not send these requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { GATEWAY, API_KEY, PROBLEM_CT, assertProblem, waitFor } from './helpers.mjs';
import { rawHttp, strictJson } from './raw-http.mjs';

const host = new URL(GATEWAY).host;

// Asserts the platform's error shape with status and code, the one
// X-Request-Id header equal to the body's request_id; returns that id.
function assertGatewayError(res, status, code) {
  const body = strictJson(res.body);
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(res.headers['content-type'][0], PROBLEM_CT);
  assertProblem(body, status, code);
  assert.deepEqual(res.headers['x-request-id'], [body.request_id]);
  return body.request_id;
}

// A request of these lines, closed after the answer (rawHttp reads to the
// end) unless it is a lone request line.
const crlf = (...lines) => Buffer.from([...lines.slice(0, 1), ...(lines.length > 1 ? ['Connection: close'] : []),
  ...lines.slice(1)].join('\r\n') + '\r\n\r\n', 'latin1');

test('a garbage request line, bad framing and unknown versions are JSON errors', async () => {
  assertGatewayError(await rawHttp(crlf('GARBAGE')), 400, 'bad_request');
  assertGatewayError(await rawHttp(Buffer.from('\x01\x02 / HTTP/1.1\r\n\r\n', 'latin1')), 400, 'bad_request');
  assertGatewayError(await rawHttp(crlf('GET /api/jobs/%00 HTTP/1.1', `Host: ${host}`)), 400, 'bad_request');
  assertGatewayError(await rawHttp(crlf('GET / HTTP/1.1', 'Connection: close')), 400, 'bad_request');
  assertGatewayError(await rawHttp(crlf('GET / HTTP/2.5', `Host: ${host}`)), 505, 'http_version_not_supported');
  // Conflicting lengths, two lengths, a bad chunk size, an unknown coding.
  assertGatewayError(await rawHttp(Buffer.concat([crlf('POST /api/jobs HTTP/1.1', `Host: ${host}`,
    'Transfer-Encoding: chunked', 'Content-Length: 5'), Buffer.from('0\r\n\r\n')])), 400, 'bad_request');
  assertGatewayError(await rawHttp(Buffer.concat([crlf('POST /api/jobs HTTP/1.1', `Host: ${host}`,
    'Content-Length: 5', 'Content-Length: 6'), Buffer.from('hello')])), 400, 'bad_request');
  assertGatewayError(await rawHttp(Buffer.concat([crlf('POST /api/jobs HTTP/1.1', `Host: ${host}`,
    'Transfer-Encoding: chunked'), Buffer.from('zz\r\nhello\r\n0\r\n\r\n')])), 400, 'bad_request');
  assertGatewayError(await rawHttp(crlf('POST /api/jobs HTTP/1.1', `Host: ${host}`,
    'Transfer-Encoding: gzip')), 501, 'not_implemented');
});

test('a 10 KB header is 431 and a 10 KB path 414, as JSON', async () => {
  assertGatewayError(await rawHttp(crlf('GET /api/jobs HTTP/1.1', `Host: ${host}`,
    `X-Big: ${'a'.repeat(10240)}`)), 431, 'headers_too_large');
  assertGatewayError(await rawHttp(crlf(`GET /api/${'a'.repeat(10240)} HTTP/1.1`, `Host: ${host}`)),
    414, 'uri_too_long');
});

test('the gateway\'s own 404 and 405 are JSON', async () => {
  assertGatewayError(await rawHttp(crlf('GET /no-such-file.html HTTP/1.1', `Host: ${host}`)), 404, 'not_found');
  assertGatewayError(await rawHttp(crlf('POST /index.html HTTP/1.1', `Host: ${host}`, 'Content-Length: 0')),
    405, 'method_not_allowed');
  // The error pages themselves are not reachable as paths.
  assertGatewayError(await rawHttp(crlf('GET /.gateway-errors/bad_request HTTP/1.1', `Host: ${host}`)),
    404, 'not_found');
});

test('a client X-Request-Id is kept only when it is a plain token, and sent once', async () => {
  // Quotes, backslashes, control and non-ASCII bytes, too long: replaced
  // by the gateway's own 32 hex digits, in the header and the body alike.
  for (const bad of ['a"b', 'a\\"}', 'x\x01y', 'caf\xe9', 'x'.repeat(65), 'a b']) {
    const res = await rawHttp(crlf('GET /api/ HTTP/1.1', `Host: ${host}`, `X-Request-Id: ${bad}`));
    // (nginx may refuse a header with a control byte as a whole: 400.)
    const id = res.status === 400 ? assertGatewayError(res, 400, 'bad_request')
      : assertGatewayError(res, 404, 'not_found');
    assert.match(id, /^[0-9a-f]{32}$/, JSON.stringify(bad));
  }
  const kept = await rawHttp(crlf('GET /api/ HTTP/1.1', `Host: ${host}`, 'X-Request-Id: my-req_1.2:3'));
  assert.equal(assertGatewayError(kept, 404, 'not_found'), 'my-req_1.2:3');
  // Through to a service, which sends its own copy: the client gets one.
  const proxied = await rawHttp(crlf('GET /api/jobs?limit=1 HTTP/1.1', `Host: ${host}`,
    `Authorization: Bearer ${API_KEY}`, 'X-Request-Id: one-id'));
  assert.equal(proxied.status, 200);
  assert.deepEqual(proxied.headers['x-request-id'], ['one-id']);
  const refused = await rawHttp(crlf('GET /api/jobs/not-a-uuid HTTP/1.1', `Host: ${host}`,
    `Authorization: Bearer ${API_KEY}`, 'X-Request-Id: "quoted"'));
  const id = strictJson(refused.body).request_id;
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.deepEqual(refused.headers['x-request-id'], [id], 'the service got the gateway\'s id');
});

test('an address with 1,024 requests in progress gets 429 too_many_connections, then is served again', async () => {
  const gw = new URL(GATEWAY);
  const held = [];
  // (A path the gateway answers with `return` is never limited: that runs
  // before the limit is checked. A request to job-api is.)
  const api = () => rawHttp(crlf('GET /api/jobs HTTP/1.1', `Host: ${host}`));
  try {
    // Requests whose bodies never come: nginx holds each (it reads a job's
    // body before passing it on) until client_body_timeout. More than the
    // limit: a probe below counted while nginx still reads these would
    // turn one of them away, and with exactly 1,024 the address would then
    // hold 1,023 and every probe would pass.
    for (let i = 0; i < 1100; i++) {
      const s = net.connect(Number(gw.port), gw.hostname);
      s.on('error', () => {});
      held.push(s);
      s.write(`POST /api/jobs HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
    }
    // Counted once nginx has read their headers.
    const refused = await waitFor('a 429', async () => {
      const r = await api();
      return r.status === 429 && r;
    }, 20000, 50);
    assertGatewayError(refused, 429, 'too_many_connections');
    assert.deepEqual(refused.headers['retry-after'], ['1']);
  } finally {
    for (const s of held) s.destroy();
  }
  await waitFor('served again', async () => (await api()).status === 401, 20000, 50);
});
