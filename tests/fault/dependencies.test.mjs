// Outages of what the services depend on, on the real stack: job-api killed
// between the commit of a job and its publish, RabbitMQ stopped and started
// mid-run, PostgreSQL stopped and started mid-run. Readiness must be honest
// while a server is down, and no accepted job may be lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createJob, getJob, upload, waitFor } from '../integration/helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const JOB_API = `http://127.0.0.1:${process.env.RAP_JOB_PORT}`;
const WORKER = `http://127.0.0.1:${process.env.RAP_WORKER_PORT}`;
const UPLOAD_API = `http://127.0.0.1:${process.env.RAP_UPLOAD_PORT}`;

const stack = (...args) => execFileSync(path.join(REPO, 'scripts/stack.sh'), args,
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT,
  '-U', 'postgres', '-d', 'rap', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
const childPid = (name) => Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8'));
const status = (url) => fetch(`${url}/readyz`).then((r) => r.status).catch(() => 0);
const jobApiMetric = async (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm')
  .exec(await (await fetch(`${JOB_API}/metrics`)).text())?.[1] ?? NaN);
const terminal = (j) => ['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'].includes(j.status);

async function allTerminal(ids, ms = 90000) {
  return waitFor('every job terminal', async () => {
    const jobs = await Promise.all(ids.map(async (id) => (await getJob(id)).body));
    return jobs.every(terminal) && jobs;
  }, ms, 250);
}

let objectKey;
async function someJobs(n) {
  if (!objectKey) objectKey = (await upload(Buffer.from('outage input'))).body.object_key;
  const ids = [];
  for (let i = 0; i < n; i++) {
    const r = await createJob({ object_key: objectKey, type: 'test.fault', params: { mode: 'succeed' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    ids.push(r.body.job_id);
  }
  return ids;
}

test('job-api killed between the commit and the publish: the relay publishes on restart', async () => {
  if (!objectKey) objectKey = (await upload(Buffer.from('outage input'))).body.object_key;
  const pid = childPid('job-api');
  // Freeze job-api, commit a job and its outbox message as job-api would,
  // then kill job-api before it could publish.
  process.kill(pid, 'SIGSTOP');
  const id = psql(`WITH j AS (INSERT INTO jobs (id, owner, type, object_key, params)
      VALUES (gen_random_uuid(), 'dev', 'test.fault', '${objectKey}', '{"mode":"succeed"}')
      RETURNING id, type, object_key, owner)
    INSERT INTO outbox (kind, job_id, exchange, routing_key, body)
      SELECT 'job', id, 'jobs', type, rap_work_message(id, type, object_key, owner)
      FROM j RETURNING job_id`).split('\n')[0];
  process.kill(pid, 'SIGKILL');
  assert.equal(psql(`SELECT status FROM jobs WHERE id = '${id}'`), 'CREATED');
  const [job] = await allTerminal([id], 60000);
  assert.equal(job.status, 'COMPLETED');
  assert.notEqual(childPid('job-api'), pid, 'the supervisor restarted job-api');
});

test('RabbitMQ stopped mid-run: readiness turns false, jobs are still accepted, nothing is lost', async () => {
  const before = await someJobs(10);
  stack('stop', 'rabbitmq');
  try {
    await waitFor('job-api not ready', async () => (await status(JOB_API)) === 503, 30000, 200);
    await waitFor('worker not ready', async () => (await status(WORKER)) === 503, 30000, 200);
    // The outbox takes jobs while the broker is down, and /metrics shows
    // them waiting: what an operator's RapOutboxStalled alert watches.
    const during = await someJobs(10);
    before.push(...during);
    await waitFor('the backlog in /metrics', async () => (await jobApiMetric('rap_outbox_pending')) >= 10
      && (await jobApiMetric('rap_outbox_oldest_seconds')) >= 1, 15000, 100);
  } finally {
    stack('up');
  }
  await waitFor('job-api ready again', async () => (await status(JOB_API)) === 200, 60000, 200);
  const jobs = await allTerminal(before);
  assert.deepEqual(jobs.map((j) => j.status), before.map(() => 'COMPLETED'));
  await waitFor('the backlog drained in /metrics', async () => (await jobApiMetric('rap_outbox_pending')) === 0
    && (await jobApiMetric('rap_outbox_oldest_seconds')) === 0, 15000, 100);
});

test('PostgreSQL stopped mid-run: readiness turns false, clear 503s, then everything completes', async () => {
  const before = await someJobs(10);
  stack('stop', 'postgres');
  try {
    await waitFor('job-api not ready', async () => (await status(JOB_API)) === 503, 30000, 200);
    await waitFor('upload-api not ready', async () => (await status(UPLOAD_API)) === 503, 30000, 200);
    const r = await createJob({ object_key: objectKey, type: 'test.fault', params: {} });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.code, 'unavailable');
    assert.equal(r.headers.get('retry-after'), '2', 'the 503 says when to retry');
  } finally {
    stack('up');
  }
  await waitFor('job-api ready again', async () => (await status(JOB_API)) === 200, 60000, 200);
  const after = await someJobs(5);
  const jobs = await allTerminal([...before, ...after]);
  assert.deepEqual(jobs.map((j) => j.status), jobs.map(() => 'COMPLETED'));
});

test('job-api SIGKILLed while a webhook keeps failing: after the restart the same delivery arrives', async () => {
  const http = await import('node:http');
  let answer = 503;
  const hits = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { hits.push(req.headers['x-rap-delivery']); res.writeHead(answer).end(); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    if (!objectKey) objectKey = (await upload(Buffer.from('outage input'))).body.object_key;
    const r = await createJob({ object_key: objectKey, type: 'test.fault', params: { mode: 'succeed' },
      webhook_url: `http://localhost:${server.address().port}/hook` });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    // Killed once the failed attempt is recorded (a kill between the POST
    // and its record would wait out the lease, tens of seconds).
    await waitFor('a failed attempt recorded', async () =>
      (await getJob(r.body.job_id)).body.webhooks?.[0]?.attempts >= 1, 30000, 50);
    const pid = childPid('job-api');
    process.kill(pid, 'SIGKILL');
    answer = 204;
    // The supervisor removes the pid file of the dead child before it starts the next one.
    const newPid = () => { try { return childPid('job-api'); } catch { return 0; } };
    await waitFor('job-api back', async () => ![0, pid].includes(newPid())
      && (await status(JOB_API)) === 200, 30000, 100);
    const job = await waitFor('the delivery delivered', async () => {
      const j = (await getJob(r.body.job_id)).body;
      return j.webhooks?.[0]?.status === 'delivered' && j;
    }, 30000, 100);
    assert.equal(new Set(hits).size, 1, `one delivery id across the crash: ${hits.join(', ')}`);
    assert.equal(String(job.webhooks[0].delivery_id), hits[0]);
    assert.ok(job.webhooks[0].attempts >= 2);
  } finally {
    server.close();
  }
});
