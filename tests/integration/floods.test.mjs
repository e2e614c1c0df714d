// Connection floods (issue 15, point 3): 1,100 idle TCP sockets to a
// service's own port, straight past the gateway, from 127.0.0.2, so the
// per-address limit applies to them while the real requests below come from
// 127.0.0.1.  Throughout, /healthz on the service's admin port answers in
// under 100 ms and real requests on the main port are served; the service
// holds no more of the flood's sockets than its per-address limit
// (RAP_UPLOAD_MAX_CONNECTIONS_PER_IP, RAP_JOB_MAX_CONNECTIONS_PER_IP).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { API_KEY, NOTIFIER_URLS, randomBytes, waitFor } from './helpers.mjs';

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

test(`notifier: ${FLOOD} idle sockets to its WebSocket port leave its admin port answering`, async () => {
  const port = Number(env.RAP_NOTIFIER_PORT || 8103);
  const adminPort = Number(new URL(NOTIFIER_URLS[0]).port);
  const sockets = await flood(port, FLOOD);
  try {
    const admin = await healthLatencies(adminPort);
    console.log(`notifier: ${sockets.size} of ${FLOOD} flood sockets held; /healthz on the admin port ` +
      `${admin.map((x) => x.toFixed(1)).join(', ')} ms`);
    assertFast(admin, "/healthz on the notifier's admin port");
  } finally {
    for (const s of sockets) s.destroy();
  }
});
