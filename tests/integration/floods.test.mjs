// Connection floods (issue 15, point 3): 1,100 idle TCP sockets to a
// service's own port, straight past the gateway, from 127.0.0.2, so the
// per-address limit applies to them while the real requests below come from
// 127.0.0.1.  Throughout, /healthz on the service's admin port answers in
// under 100 ms and real requests on the main port are served; the service
// holds no more of the flood's sockets than its per-address limit
// (RAP_UPLOAD_MAX_CONNECTIONS_PER_IP, RAP_JOB_MAX_CONNECTIONS_PER_IP,
// RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP); the notifier's WebSocket port also
// serves a real subscription throughout, and the worker's health port
// answers its probes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import WebSocketClient from 'ws';
import {
  API_KEY, NOTIFIER_URLS, createJob, follower, randomBytes, startNotifier, upload, waitFor,
} from './helpers.mjs';

const FLOOD = 1100;
const FROM = '127.0.0.2';
const env = process.env;
const SERVICES = [
  {
    name: 'upload-api',
    port: Number(env.RAP_UPLOAD_PORT || 8101),
    admin: Number(env.RAP_UPLOAD_ADMIN_PORT || 8180),
    perIp: Number(env.RAP_UPLOAD_MAX_CONNECTIONS_PER_IP || 384),
  },
  {
    name: 'job-api',
    port: Number(env.RAP_JOB_PORT || 8102),
    admin: Number(env.RAP_JOB_ADMIN_PORT || 8181),
    perIp: Number(env.RAP_JOB_MAX_CONNECTIONS_PER_IP || 768),
  },
];

const open = new Set();
after(() => {
  for (const s of open) s.destroy();
});

// Opens n idle sockets to port from FROM; resolves when each has connected
// or failed (bounded), with the set of those still open.
async function flood(port, n) {
  const mine = new Set();
  let settled = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${settled} of ${n} sockets settled in 20 s`)), 20000);
    const done = () => {
      if (++settled === n) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (let i = 0; i < n; i++) {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: FROM });
      let counted = false;
      const once = () => {
        if (!counted) {
          counted = true;
          done();
        }
      };
      open.add(s);
      mine.add(s);
      s.on('connect', once);
      s.on('error', once);
      s.on('close', () => {
        mine.delete(s);
        open.delete(s);
        once();
      });
    }
  });
  return mine;
}

// One request on a fresh connection from 127.0.0.1: status, body, ms.
function request(port, path, { method = 'GET', headers = {}, body = null, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false, localAddress: '127.0.0.1' }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        text: Buffer.concat(chunks).toString(),
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
      }));
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${path} on :${port}: no answer in ${timeout} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// Under 100 ms: all but the slowest of six (a loaded test machine may
// stall one), and every one under a second.
function assertFast(ms, what) {
  const sorted = [...ms].sort((x, y) => x - y);
  assert.ok(sorted[sorted.length - 2] < 100, `${what}: ${ms.join(', ')} ms`);
  assert.ok(sorted[sorted.length - 1] < 1000, `${what}: ${ms.join(', ')} ms`);
}

async function healthLatencies(port, n = 6) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const r = await request(port, '/healthz', { timeout: 2000 });
    assert.equal(r.status, 200, r.text);
    ms.push(r.ms);
  }
  return ms;
}

function multipart(buf) {
  const boundary = `----flood${randomBytes(8).toString('hex')}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="flood.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n'),
    buf,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

// A real request of each service, on its main port.
const REAL = {
  'upload-api': async (port) => {
    const { body, type } = multipart(randomBytes(64 * 1024));
    const r = await request(port, '/uploads', {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': type, 'Content-Length': body.length },
      body,
    });
    assert.equal(r.status, 201, r.text);
    return r;
  },
  'job-api': async (port) => {
    const r = await request(port, '/jobs?limit=5', { headers: { Authorization: `Bearer ${API_KEY}` } });
    assert.equal(r.status, 200, r.text);
    return r;
  },
};

for (const svc of SERVICES) {
  test(`${svc.name}: ${FLOOD} idle sockets from ${FROM} starve neither its health nor its requests`, async () => {
    const sockets = await flood(svc.port, FLOOD);
    try {
      // The service keeps at most its per-address limit of them; the
      // rest it closes at once.
      await waitFor(`${svc.name} to close the flood's sockets past ${svc.perIp}`,
        () => sockets.size <= svc.perIp, 15000, 50);
      const admin = await healthLatencies(svc.admin);
      const main = await healthLatencies(svc.port);
      const real = [];
      for (let i = 0; i < 3; i++) real.push((await REAL[svc.name](svc.port)).ms);
      console.log(`${svc.name}: ${sockets.size} of ${FLOOD} flood sockets held; /healthz on the admin port ` +
        `${admin.map((x) => x.toFixed(1)).join(', ')} ms; on the main port ${main.map((x) => x.toFixed(1)).join(', ')} ms; ` +
        `real requests ${real.map((x) => x.toFixed(1)).join(', ')} ms`);
      assertFast(admin, `/healthz on ${svc.name}'s admin port`);
      // The flood is still there: what the service held stays open.
      assert.ok(sockets.size > 0, 'the flood was closed before the requests');
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
}

// The worker's port serves only /healthz, /readyz and /metrics, with an
// admin listener's limits (64 connections, 16 from one address): the flood
// keeps 16 and its probes are answered.
test(`worker: ${FLOOD} idle sockets from ${FROM} to its health port do not starve its /healthz`, async () => {
  const port = Number(env.RAP_WORKER_PORT || 8104);
  const sockets = await flood(port, FLOOD);
  try {
    await waitFor('the worker to close the flood\'s sockets past 16', () => sockets.size <= 16, 15000, 50);
    const ms = await healthLatencies(port);
    console.log(`worker: ${sockets.size} of ${FLOOD} flood sockets held; /healthz ` +
      `${ms.map((x) => x.toFixed(1)).join(', ')} ms`);
    assertFast(ms, '/healthz on the worker\'s port');
    assert.ok(sockets.size > 0, 'the flood was closed before the probes');
  } finally {
    for (const s of sockets) s.destroy();
  }
});

// A real WebSocket client of the notifier at port, from 127.0.0.1: it
// subscribes to the owner's events from now on, a job is created through
// the gateway, and the client is told its COMPLETED.  Resolves with the
// client (open) and the ms from subscribe to COMPLETED.
async function realSubscription(port, sockets) {
  let target = null, told = null;
  const t0 = Date.now();
  const ws = await follower({
    url: `ws://127.0.0.1:${port}/ws`, sockets, timeoutMs: 10000,
    onMessage: (m) => {
      if (m.type === 'job.status' && m.job_id === target && m.to === 'COMPLETED') told = m;
    },
  });
  const k = (await upload(Buffer.from('flood'))).body.object_key;
  const created = await createJob({ object_key: k, type: 'noop' });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  target = created.body.job_id;
  await waitFor(`the notifier on :${port} to tell job ${target}'s COMPLETED`, () => told, 30000, 20);
  return { ws, ms: Date.now() - t0 };
}

async function metricsOf(adminPort) {
  return (await request(adminPort, '/metrics')).text;
}

function metric(text, line) {
  const m = text.match(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

// The stack's notifier, with its shipped limits: its per-address limit
// (RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP, 12288) is above the flood, as every
// browser behind the gateway comes from the gateway's one address.
test(`notifier: ${FLOOD} idle sockets to its WebSocket port starve neither its health nor a subscription`, async () => {
  const port = Number(env.RAP_NOTIFIER_PORT || 8103);
  const adminPort = Number(new URL(NOTIFIER_URLS[0]).port);
  const perIp = Number(env.RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP || 12288);
  const clients = [];
  const sockets = await flood(port, FLOOD);
  try {
    assert.ok(sockets.size <= perIp, `${sockets.size} held`);
    const admin = await healthLatencies(adminPort);
    const subs = [];
    for (let i = 0; i < 2; i++) subs.push((await realSubscription(port, clients)).ms);
    console.log(`notifier: ${sockets.size} of ${FLOOD} flood sockets held; /healthz on the admin port ` +
      `${admin.map((x) => x.toFixed(1)).join(', ')} ms; subscribed and told a job's COMPLETED in ` +
      `${subs.join(', ')} ms`);
    assertFast(admin, "/healthz on the notifier's admin port");
  } finally {
    for (const s of sockets) s.destroy();
    for (const ws of clients) ws.terminate();
  }
});

// A notifier of this test's own with small limits, on ports of its own
// (the stack's PostgreSQL and RabbitMQ): the flood past its per-address
// limit is closed at once and counted, what it holds of the flood is closed
// after its idle timeout, and a WebSocket from another address subscribes,
// is told a job's events throughout, and stays past the idle timeout.
test(`notifier: past RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP a flood is refused, and idle sockets are closed`, async () => {
  const PER_IP = 256, IDLE = 3;
  const n = await startNotifier({
    RAP_NOTIFIER_MAX_CONNECTIONS: '1024',
    RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP: String(PER_IP),
    RAP_NOTIFIER_IDLE_TIMEOUT_SECONDS: String(IDLE),
  });
  const clients = [];
  let sockets = new Set();
  try {
    sockets = await flood(n.port, FLOOD);
    await waitFor(`the notifier to close the flood's sockets past ${PER_IP}`,
      () => sockets.size <= PER_IP, 15000, 50);
    const held = sockets.size;
    const admin = await healthLatencies(n.admin);
    const first = await realSubscription(n.port, clients);
    const m = await metricsOf(n.admin);
    const refused = metric(m, 'rap_notifier_connections_refused_total{reason="address"}');
    assert.ok(refused >= FLOOD - PER_IP, `${refused} refused`);
    assert.equal(metric(m, 'rap_notifier_connections_refused_total{reason="total"}'), 0);
    // A WebSocket that never subscribes, and the flood's sockets that never
    // sent a request, are closed after the idle timeout; the subscribed
    // client stays and is still told.
    const silent = new WebSocketClient(`ws://127.0.0.1:${n.port}/ws`);
    clients.push(silent);
    const silentClosed = new Promise((r) => silent.once('close', (code, reason) => r({ code, reason: String(reason) })));
    await waitFor('the flood\'s idle sockets to be closed', () => sockets.size === 0, (IDLE + 15) * 1000, 100);
    const closed = await Promise.race([silentClosed, new Promise((_, rej) => setTimeout(
      () => rej(new Error('a WebSocket that never subscribed is still open')), (IDLE + 15) * 1000))]);
    assert.deepEqual(closed, { code: 1008, reason: '{"code":"idle"}' });
    assert.equal(first.ws.readyState, WebSocketClient.OPEN, 'the subscribed client was closed');
    const second = await realSubscription(n.port, clients);
    const after = await metricsOf(n.admin);
    assert.ok(metric(after, 'rap_notifier_idle_closed_total') >= 1);
    console.log(`notifier (per-address limit ${PER_IP}, idle ${IDLE} s): ${held} of ${FLOOD} flood sockets held, ` +
      `${refused} refused; /healthz on the admin port ${admin.map((x) => x.toFixed(1)).join(', ')} ms; ` +
      `a job's COMPLETED in ${first.ms}, ${second.ms} ms; flood closed after the idle timeout; ` +
      `connections held after: ${metric(after, 'rap_notifier_connections')}`);
    assertFast(admin, "/healthz on the test notifier's admin port");
  } finally {
    for (const s of sockets) s.destroy();
    for (const ws of clients) ws.terminate();
    await n.stop();
  }
});
