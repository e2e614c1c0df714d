// Shared helpers of the integration tests: they talk to a stack started by
// scripts/test (through the nginx gateway, like a user) and never sleep as a
// way to synchronise: every wait polls a condition with a deadline.
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import WebSocketClient from 'ws';

// Node 22+ has a global WebSocket; older ones use the `ws` package.
export const WebSocket = globalThis.WebSocket ?? WebSocketClient;

export const GATEWAY = process.env.RAP_GATEWAY_URL || 'http://127.0.0.1:8080';
export const API_KEY = process.env.RAP_TEST_API_KEY || 'dev-key';
export const OTHER_KEY = process.env.RAP_TEST_OTHER_KEY || 'other-key';
export const SERVICE_URLS = (process.env.RAP_SERVICE_URLS || '')
  .split(',').filter(Boolean);

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

// Asserts the platform's error shape: {"error":{status,code,message,request_id}}.
export function assertError(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.ok(res.body && res.body.error, `no error object in ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.status, status);
  if (code) assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 0);
  assert.equal(typeof res.body.error.request_id, 'string');
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
