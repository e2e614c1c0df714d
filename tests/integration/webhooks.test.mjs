// Webhooks: a job created with a webhook_url is POSTed to it when it ends,
// signed with RAP_WEBHOOK_SECRET (test-webhook-secret on the test stack),
// retried with backoff while the receiver fails or is away (the same
// X-Rap-Delivery id every time), and given up after RAP_WEBHOOK_MAX_ATTEMPTS
// (4 here) with the reason shown on the job, as a class only.  The test
// stack sets RAP_WEBHOOK_ALLOWED_HOSTS=localhost: the receivers here are
// reached as http://localhost:PORT, and every other loopback form is refused
// at creation.  Deliveries run concurrently with a share per owner
// (RAP_WEBHOOK_PER_OWNER, 4 by default): owner other's hanging receivers do
// not delay owner dev's delivery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import {
  GATEWAY, OTHER_KEY, assertError, auth, createJob, getJob, upload, waitFor, jobEnded,
} from './helpers.mjs';

const SECRET = 'test-webhook-secret';
const validBody = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(
  new URL('../../proto/schemas/job-webhook.json', import.meta.url), 'utf8')));
const PER_OWNER = 4;     // RAP_WEBHOOK_PER_OWNER's default
let server, url, port, objectKey;
const received = [];     // { headers, body, raw, at, hangingNow }
let answers = [];        // status codes to answer in turn, then 204
const hanging = new Set(); // answers held open (paths under /hang)
let mostHanging = 0;

before(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, raw, body: JSON.parse(raw), at: Date.now(),
        hangingNow: hanging.size });
      if (req.url.startsWith('/hang')) {
        hanging.add(res);
        mostHanging = Math.max(mostHanging, hanging.size);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (req.url.startsWith('/status/')) {
        res.writeHead(Number(req.url.split('/')[2])).end();
        return;
      }
      res.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  url = `http://localhost:${port}`;
  objectKey = (await upload(Buffer.from('webhook input'))).body.object_key;
});
after(() => {
  for (const res of hanging) if (!res.headersSent) res.writeHead(204).end();
  server.closeAllConnections();
  server.close();
});

const forJob = (id) => received.filter((r) => r.body.job_id === id);

async function job(params, hook) {
  const r = await createJob({ object_key: objectKey, type: 'test.fault', params, webhook_url: hook });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}

test('a finished job is POSTed to its webhook_url once, signed, with its outcome', async () => {
  const id = await job({ mode: 'succeed' }, `${url}/hooks/a?x=1`);
  const done = await jobEnded(id);
  assert.equal(done.status, 'COMPLETED');
  const [hit] = await waitFor('the webhook', () => forJob(id).length && forJob(id), 15000, 50);
  assert.equal(hit.path, '/hooks/a?x=1');
  assert.equal(hit.headers['content-type'], 'application/json');
  assert.equal(hit.headers['x-rap-event'], 'job.finished');
  assert.match(hit.headers['x-rap-delivery'], /^\d+$/);
  const sig = createHmac('sha256', SECRET).update(hit.raw).digest('hex');
  assert.equal(hit.headers['x-rap-signature'], `sha256=${sig}`, 'signed with RAP_WEBHOOK_SECRET');
  assert.ok(validBody(hit.body), `matches proto/schemas/job-webhook.json: ${JSON.stringify(validBody.errors)}`);
  assert.equal(hit.body.type, 'job.finished');
  assert.equal(hit.body.status, 'COMPLETED');
  assert.equal(hit.body.job_type, 'test.fault');
  assert.deepEqual(hit.body.result, done.result);
  // Migration 0012: no row counts for a type that counts none; completed_at
  // is finished_at for a COMPLETED job.
  assert.equal(hit.body.rows_processed, null);
  assert.equal(hit.body.rows_failed, null);
  assert.equal(hit.body.completed_at, hit.body.finished_at);
  const view = await waitFor('the delivery recorded', async () => {
    const j = (await getJob(id)).body;
    return j.webhooks[0]?.status === 'delivered' && j;
  }, 10000, 50);
  assert.equal(view.webhook_url, `${url}/hooks/a?x=1`);
  assert.equal(view.webhooks.length, 1);
  assert.equal(String(view.webhooks[0].delivery_id), hit.headers['x-rap-delivery']);
  assert.equal(view.webhooks[0].attempts, 1);
  // Nothing more comes for it.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(forJob(id).length, 1);
});

test('a failing receiver gets the same delivery again with backoff until it answers 2xx', async () => {
  answers = [500, 503];
  const id = await job({ mode: 'permanent' }, `${url}/hooks/b`);
  assert.equal((await jobEnded(id)).status, 'FAILED');
  const hits = await waitFor('three attempts', () => forJob(id).length >= 3 && forJob(id), 20000, 50);
  assert.equal(new Set(hits.map((h) => h.headers['x-rap-delivery'])).size, 1, 'one delivery id');
  assert.equal(hits[0].body.status, 'FAILED');
  assert.equal(hits[0].body.completed_at, null, 'a FAILED job did not complete');
  assert.ok(validBody(hits[0].body), JSON.stringify(validBody.errors));
  assert.ok(hits[0].body.error, 'the error is in the body');
  const j = await waitFor('delivered', async () => {
    const v = (await getJob(id)).body;
    return v.webhooks[0]?.status === 'delivered' && v;
  }, 10000, 50);
  assert.equal(j.webhooks[0].attempts, 3);
});

test('a receiver that is away is tried RAP_WEBHOOK_MAX_ATTEMPTS times, then the delivery shows as failed', async () => {
  // A port with nothing listening: connections are refused.
  const away = http.createServer();
  await new Promise((r) => away.listen(0, '127.0.0.1', r));
  const gone = away.address().port;
  await new Promise((r) => away.close(r));
  const id = await job({ mode: 'succeed' }, `http://localhost:${gone}/gone`);
  assert.equal((await jobEnded(id)).status, 'COMPLETED');
  const j = await waitFor('given up', async () => {
    const v = (await getJob(id)).body;
    return v.webhooks[0]?.status === 'failed' && v;
  }, 30000, 100);
  assert.equal(j.webhooks[0].attempts, 4);
  assert.equal(j.webhooks[0].last_error, 'unreachable', 'a class, not curl\'s words');
});

test('a bad webhook_url is refused with a clear 400, and nothing is created', async () => {
  for (const bad of ['ftp://example.com/x', 'http://', 'not a url', 'http://user:pw@example.com/',
    `http://example.com/${'a'.repeat(2100)}`, 42]) {
    const r = await createJob({ object_key: objectKey, type: 'test.fault', webhook_url: bad });
    assertError(r, 400, 'bad_request');
    assert.match(r.body.detail, /webhook_url/);
  }
});

test('a loopback address in any form is refused at creation with 400 naming webhook_url', async () => {
  // The test stack allows the name localhost only: every other way of
  // writing a loopback address is refused, as it is on a stack that allows
  // none (the default).
  const forms = [`http://127.0.0.1:${port}/`, `http://127.1:${port}/`, `http://2130706433:${port}/`,
    `http://0x7f000001:${port}/`, `http://0177.0.0.1:${port}/`, `http://[::1]:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`, `http://a.localhost:${port}/`, `https://LOCALHOST.localhost/`];
  for (const bad of forms) {
    const r = await createJob({ object_key: objectKey, type: 'test.fault', webhook_url: bad });
    assertError(r, 400, 'bad_request');
    assert.match(r.body.detail, /'webhook_url' names/, bad);
  }
  const batch = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: [
      { object_key: objectKey, type: 'test.fault', webhook_url: `${url}/ok` },
      { object_key: objectKey, type: 'test.fault', webhook_url: `http://2130706433:${port}/` }] }),
  });
  const body = await batch.json();
  assertError({ status: batch.status, body }, 400, 'bad_request');
  assert.match(body.detail, /^jobs\[1\]: 'webhook_url' names a loopback address/);
  assert.equal(received.filter((h) => h.path === '/' || h.path === '/ok').length, 0, 'nothing was sent');
});

test('a receiver\'s status is shown as its class only', async () => {
  const id = await job({ mode: 'succeed' }, `${url}/status/404`);
  const j = await waitFor('an attempt recorded', async () => {
    const v = (await getJob(id)).body;
    return v.webhooks?.[0]?.last_error && v;
  }, 15000, 50);
  assert.equal(j.webhooks[0].last_error, 'the receiver answered HTTP 4xx');
  assert.doesNotMatch(JSON.stringify(j.webhooks), /404/);
});

test('owner other\'s hanging receivers do not delay owner dev\'s delivery (within 3 s of its job ending)', async (t) => {
  const otherKey = (await upload(Buffer.from('webhook input'), { key: OTHER_KEY })).body.object_key;
  for (let i = 0; i < 2 * PER_OWNER; i++) {
    const r = await createJob({ object_key: otherKey, type: 'test.fault', params: { mode: 'succeed' },
      webhook_url: `${url}/hang/${i}` }, { key: OTHER_KEY });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  await waitFor(`${PER_OWNER} of other's deliveries hanging`, () => hanging.size >= PER_OWNER, 30000, 20);
  const id = await job({ mode: 'succeed' }, `${url}/hooks/dev`);
  const done = await jobEnded(id);
  const [hit] = await waitFor('dev\'s webhook', () => forJob(id).length && forJob(id), 15000, 20);
  const delay = hit.at - Date.parse(done.finished_at);
  t.diagnostic(`dev's webhook arrived ${delay} ms after its job ended; ${hit.hangingNow} of other's hanging`);
  assert.ok(delay < 3000, `delivered ${delay} ms after the job ended, while ${hit.hangingNow} hang`);
  assert.ok(hit.hangingNow >= 1, 'other\'s receivers were hanging when dev\'s arrived');
  assert.ok(mostHanging <= PER_OWNER, `at most ${PER_OWNER} of other's in flight, saw ${mostHanging}`);
  for (const res of hanging) res.writeHead(204).end();
  hanging.clear();
});
