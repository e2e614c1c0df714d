// Shared helpers of the integration tests: they talk to a stack started by
// scripts/test (through the nginx gateway, like a user) and never sleep as a
// way to synchronise: every wait polls a condition with a deadline.
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import WebSocketClient from 'ws';

// Node 22+ has a global WebSocket; older ones use the `ws` package.
export const WebSocket = globalThis.WebSocket ?? WebSocketClient;

export const GATEWAY = process.env.RAP_GATEWAY_URL || 'http://127.0.0.1:8080';
export const API_KEY = process.env.RAP_TEST_API_KEY || 'dev-key';
export const OTHER_KEY = process.env.RAP_TEST_OTHER_KEY || 'other-key';
export const SERVICE_URLS = (process.env.RAP_SERVICE_URLS || '')
  .split(',').filter(Boolean);

// The notifiers' admin ports (health and metrics, RAP_NOTIFIER_ADMIN_PORT):
// one a notifier instance behind the gateway.
export const NOTIFIER_URLS = (process.env.RAP_NOTIFIER_URLS || 'http://127.0.0.1:8190,http://127.0.0.1:8192')
  .split(',');

// A notifier metric (a line without labels): one value a notifier.
export async function notifierMetrics(name) {
  return Promise.all(NOTIFIER_URLS.map(async (u) => Number((await (await fetch(`${u}/metrics`)).text())
    .match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? NaN)));
}

// The same summed over the notifiers.
export async function notifierMetric(name) {
  return (await notifierMetrics(name)).reduce((a, b) => a + b, 0);
}

export function auth(key = API_KEY) {
  return { Authorization: `Bearer ${key}` };
}

export function randomBytes(n) {
  return crypto.randomBytes(n);
}

export function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

export async function upload(buf, { filename = 'data.bin', key = API_KEY } = {}) {
  const form = new FormData();
  form.append('file', new Blob([buf]), filename);
  const res = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', headers: auth(key), body: form });
  return { status: res.status, body: await res.json() };
}

export async function createJob(body, { key = API_KEY, headers = {} } = {}) {
  const res = await fetch(`${GATEWAY}/api/jobs`, {
    method: 'POST',
    headers: { ...auth(key), 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function getJob(id, key = API_KEY) {
  const res = await fetch(`${GATEWAY}/api/jobs/${id}`, { headers: auth(key) });
  return { status: res.status, body: await res.json() };
}

// tus: HEAD of an upload (a path through the gateway, or a whole URL) and
// the upload record a finished one yields (GET /api/uploads/{id}).
export const TUS = { 'Tus-Resumable': '1.0.0' };
export const idOf = (url) => url.split('/').pop();

export async function tusHead(loc, key = API_KEY) {
  const res = await fetch(new URL(loc, GATEWAY), { method: 'HEAD', headers: { ...TUS, ...auth(key) } });
  return { status: res.status, offset: Number(res.headers.get('upload-offset')), headers: res.headers };
}

export async function uploadRecord(id, key = API_KEY) {
  const res = await fetch(`${GATEWAY}/api/uploads/${id}`, { headers: auth(key) });
  return res.json();
}

// Waits (bounded) until job id has ended COMPLETED, FAILED or DEAD, and
// answers it.
export function jobEnded(id, timeoutMs = 60000) {
  return waitFor(`job ${id} ended`, async () => {
    const j = (await getJob(id)).body;
    return ['COMPLETED', 'FAILED', 'DEAD'].includes(j.status) && j;
  }, timeoutMs, 100);
}

// Parses an RFC 4180 text (CRLF line ends) into records of fields.
export function parseCsv(text) {
  const records = [];
  let field = '', record = [], i = 0, quoted = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i++; }
    else field += c;
  }
  return records;
}

// Polls fn until it returns a truthy value or the deadline passes.
export async function waitFor(what, fn, timeoutMs = 60000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// A port free on 127.0.0.1 now (the kernel's pick), for a process a test
// starts itself.
export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// A notifier of a test's own on free ports (the stack's PostgreSQL and
// RabbitMQ), with `settings` over the environment. Resolves once it is
// ready; stop() ends it and waits for its exit.
export async function startNotifier(settings = {}) {
  const env = process.env;
  const [port, admin] = [await freePort(), await freePort()];
  const child = spawn(path.join(env.RAP_BUILD_DIR || path.resolve('build'), 'rap-notifier'), [], {
    env: {
      ...env,
      RAP_NOTIFIER_PORT: String(port),
      RAP_NOTIFIER_ADMIN_PORT: String(admin),
      RAP_PG_URL: `postgresql://postgres@127.0.0.1:${env.RAP_PG_PORT || 5439}/rap`,
      RAP_AMQP_URL: `amqp://rap:rap@127.0.0.1:${env.RAP_AMQP_PORT || 5679}/`,
      RAP_LOG_LEVEL: 'warn',
      ...settings,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor('the test\'s notifier to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`rap-notifier exited with ${child.exitCode}`);
    try { return (await fetch(`http://127.0.0.1:${admin}/readyz`)).status === 200; } catch { return false; }
  }, 30000, 50);
  return { port, admin, stop: async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; } };
}

// An upload-api of a test's own on a free port: the stack's PostgreSQL, its
// S3 through s3Endpoint (a test's proxy in front of the stack's S3, so the
// test sees and breaks the calls), env over everything else. Resolves once
// it is ready; stop(signal) ends it and waits for its exit.
export async function startUploadApi(s3Endpoint, env = {}, what = 'a test upload-api') {
  const port = await freePort();
  const child = spawn(path.join(process.env.RAP_BUILD_DIR || path.resolve('build'), 'rap-upload-api'), [], {
    env: {
      ...process.env,
      RAP_UPLOAD_PORT: String(port),
      RAP_PG_URL: `postgresql://postgres@127.0.0.1:${process.env.RAP_PG_PORT || 5439}/rap`,
      RAP_S3_ENDPOINT: s3Endpoint,
      RAP_S3_PUBLIC_ENDPOINT: `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}`,
      RAP_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${what} is ready`, async () => {
    if (child.exitCode !== null) throw new Error(`upload-api exited with ${child.exitCode}`);
    try { return (await fetch(`${url}/readyz`)).status === 200; } catch { return false; }
  }, 30000, 50);
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url, child,
    stop: async (signal = 'SIGTERM') => { if (child.exitCode === null) child.kill(signal); await exited; },
  };
}

// The media type of every error answer (RFC 9457, docs/errors.md).
export const PROBLEM_CT = /^application\/problem\+json/;

// Asserts an error body is the platform's RFC 9457 problem details, flat:
// type /problems/CODE, title, status, detail, code, request_id.
export function assertProblem(body, status, code) {
  assert.ok(body && typeof body === 'object', `not a problem: ${JSON.stringify(body)}`);
  assert.equal(body.error, undefined, `an envelope, not a problem: ${JSON.stringify(body)}`);
  assert.equal(body.status, status);
  if (code) assert.equal(body.code, code);
  assert.equal(body.type, `/problems/${body.code}`);
  assert.equal(typeof body.title, 'string');
  assert.ok(body.title.length > 0);
  assert.equal(typeof body.detail, 'string');
  assert.ok(body.detail.length > 0);
  assert.equal(typeof body.request_id, 'string');
}

// Asserts the platform's error: status, and problem details with code
// (and application/problem+json when res carries its headers).
export function assertError(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  const ct = typeof res.headers?.get === 'function' ? res.headers.get('content-type') : res.headers?.['content-type'];
  if (ct != null) assert.match(String(ct), PROBLEM_CT);
  assertProblem(res.body, status, code);
}

// Opens a follower of all of the key's owner's jobs on the notifier at url
// (the gateway's /ws by default), from now on or after `since`; it is kept
// in `sockets` (for the caller's cleanup) from the start, every message
// goes to onMessage, and it resolves once the notifier said subscribed.
export function follower({ url = `${GATEWAY.replace(/^http/, 'ws')}/ws`, key = API_KEY, since = 1e15,
  onMessage = () => {}, sockets = [], timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(url);
    sockets.push(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no subscription within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('error', (e) => { clearTimeout(timer); reject(e); });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', api_key: key, since })));
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'subscribed') { clearTimeout(timer); resolve(ws); }
      onMessage(m);
    });
  });
}

// A WebSocket client of the notifier that records every message it gets.
export class EventClient {
  constructor() {
    this.messages = [];
    this.waiters = [];
  }

  async open() {
    const url = GATEWAY.replace(/^http/, 'ws') + '/ws';
    this.ws = new WebSocket(url);
    this.ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(ev.data);
      this.messages.push(msg);
      for (const w of [...this.waiters]) w();
    });
    await new Promise((resolve, reject) => {
      this.ws.addEventListener('open', resolve, { once: true });
      this.ws.addEventListener('error', () => reject(new Error('WebSocket error')), { once: true });
    });
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  // Resolves with the first recorded message that matches pred.
  waitFor(what, pred, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.messages.find(pred);
        if (m) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  async subscribe(fields = {}) {
    const before = this.messages.length;
    this.send({ type: 'subscribe', api_key: API_KEY, ...fields });
    return this.waitFor('subscribed', (m, i) => this.messages.indexOf(m) >= before &&
      (m.type === 'subscribed' || m.type === 'error'), 10000);
  }

  close() {
    this.ws.close();
  }
}

// A TCP proxy to the gateway. Client-to-server bytes can be limited to
// `rate` bytes/s (0: no limit; changeable later through proxy.rate), and
// once, the connection that has carried `cutAfter` bytes is closed, or the
// one that has carried `stallAfter` bytes stops passing anything while
// staying open (a dead link). While proxy.cutAnswersTo is set (e.g.
// 'POST /api/jobs '), a connection that sends such a request is closed
// when the answer comes: the server did the work, the client never hears.
// Once, the connection that carries its `flipAt`th byte gets that byte
// inverted (corruption in transit); `flipAnswer` is then the status line
// the server answered on it.
// `upBytes` counts what went to the server, `answersCut` the answers lost.
export function linkProxy({ rate = 0, cutAfter = 0, stallAfter = 0, cutAnswersTo = null, flipAt = 0 } = {}) {
  const target = new URL(GATEWAY);
  const proxy = { rate, cutAnswersTo, upBytes: 0, answersCut: 0, cut: false, stalled: false,
    flipped: false, flipAnswer: null, sockets: new Set() };
  const server = net.createServer((client) => {
    const up = net.connect(Number(target.port), target.hostname);
    let carried = 0;
    let dead = false;
    let cutAnswer = false;
    let flippedHere = false;
    proxy.sockets.add(client);
    proxy.sockets.add(up);
    const onData = (d) => {
      if (dead) return;
      carried += d.length;
      if (cutAfter && !proxy.cut && carried > cutAfter) {
        proxy.cut = true;
        client.destroy();
        up.destroy();
        return;
      }
      if (stallAfter && !proxy.stalled && carried > stallAfter) {
        proxy.stalled = true;
        dead = true;
        return;
      }
      if (flipAt && !proxy.flipped && carried >= flipAt) {
        d = Buffer.from(d);
        d[flipAt - (carried - d.length) - 1] ^= 0xff;
        proxy.flipped = flippedHere = true;
      }
      if (proxy.cutAnswersTo && d.includes(proxy.cutAnswersTo)) cutAnswer = true;
      proxy.upBytes += d.length;
      up.write(d);
      if (proxy.rate > 0) {
        // Hold the next read back for as long as these bytes take at `rate`.
        client.pause();
        setTimeout(() => client.resume(), (d.length * 1000) / proxy.rate);
      }
    };
    client.on('data', onData);
    up.on('data', (d) => {
      if (flippedHere && proxy.flipAnswer === null) proxy.flipAnswer = d.toString('latin1').split('\r\n')[0];
      if (cutAnswer) {
        proxy.answersCut++;
        client.destroy();
        up.destroy();
      } else if (!dead) {
        client.write(d);
      }
    });
    for (const [a, b] of [[client, up], [up, client]]) {
      a.on('error', () => b.destroy());
      a.on('close', () => { b.destroy(); proxy.sockets.delete(a); });
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    proxy.url = `http://127.0.0.1:${server.address().port}`;
    proxy.close = () => {
      for (const s of proxy.sockets) s.destroy();
      return new Promise((r) => server.close(r));
    };
    resolve(proxy);
  }));
}
