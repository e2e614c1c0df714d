// Crash recovery on the real stack: a worker killed with SIGKILL mid-job, a
// worker that hangs, a worker stopped with SIGTERM, and a job that kills
// every worker that runs it. The test stack runs with RAP_LEASE_SECONDS=3
// and RAP_SWEEP_MS=500 so that recovery happens within seconds; each wait
// is bounded. Run after the other suites: it kills workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createJob, getJob, upload, waitFor } from '../integration/helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
let objectKey;

async function faultJob(params, extra = {}) {
  if (!objectKey) objectKey = (await upload(Buffer.from('recovery input'))).body.object_key;
  const res = await createJob({ object_key: objectKey, type: 'test.fault', params, ...extra });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

const until = (id, pred, what, ms = 60000) => waitFor(`${id} ${what}`, async () => {
  const j = (await getJob(id)).body;
  return pred(j) && j;
}, ms, 100);
const terminal = (j) => ['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'].includes(j.status);

// The worker holding the job: its PROCESSING event says "claimed by worker-N".
async function holder(id) {
  const job = await until(id, (j) => j.status === 'PROCESSING', 'PROCESSING', 30000);
  const claim = job.events.filter((e) => e.to === 'PROCESSING').at(-1);
  const name = /claimed by (worker-\d+)/.exec(claim.detail)[1];
  const pid = Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8'));
  return { name, pid, attempt: claim.attempt };
}

// Waits until the supervisor has a new live process for the worker.
async function restarted(name, oldPid) {
  await waitFor(`${name} restarted`, () => {
    try {
      // The supervisor removes the pid file while it waits to restart.
      const pid = Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8'));
      process.kill(pid, 0);
      return pid !== oldPid;
    } catch {
      return false;
    }
  }, 30000, 100);
}

test('a worker killed with SIGKILL mid-job: the job completes elsewhere, once', async (t) => {
  const id = await faultJob({ mode: 'sleep', seconds: 3 });
  const h = await holder(id);
  const killedAt = Date.now();
  process.kill(h.pid, 'SIGKILL');
  const job = await until(id, terminal, 'terminal');
  const recoveredAfter = job.events.filter((e) => e.to === 'PROCESSING').at(-1);
  t.diagnostic(`recovery after SIGKILL: re-claimed ${Date.parse(recoveredAfter.at) - killedAt} ms after the kill`);
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job.events));
  assert.equal(job.attempt, h.attempt + 1);
  assert.equal(job.events.filter((e) => e.to === 'COMPLETED').length, 1);
  // RabbitMQ redelivered the dead worker's message; the next worker took
  // the lease over at once (a new attempt) instead of waiting for it.
  assert.ok(job.events.some((e) => e.from === 'PROCESSING' && e.to === 'PROCESSING' &&
    /\(redelivered\)$/.test(e.detail)), JSON.stringify(job.events));
  await restarted(h.name, h.pid);
});

test('a hung worker stops heartbeating and another worker takes its job over', async () => {
  const id = await faultJob({ mode: 'hang', seconds: 8, failures: 1 });
  const h = await holder(id);
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'COMPLETED');
  assert.equal(job.attempt, 2);
  const second = job.events.filter((e) => e.to === 'PROCESSING').at(-1);
  assert.equal(second.attempt, 2);
  assert.ok(job.events.some((e) => /re-queued/.test(e.detail || '')));
  // When the hung worker wakes up it finds its lease gone and records nothing.
  const log = path.join(STATE, 'logs', `${h.name}.log`);
  await waitFor('the hung worker dropped its result', () => fs.readFileSync(log, 'utf8')
    .split('\n').some((l) => l.includes(id) && l.includes('the lease was lost')), 20000, 200);
  const after = (await getJob(id)).body;
  assert.equal(after.status, 'COMPLETED');
  assert.equal(after.attempt, 2);
  assert.equal(after.events.filter((e) => e.to === 'COMPLETED').length, 1);
});

test('SIGTERM: the worker hands its job back and exits; the job runs again', async () => {
  const id = await faultJob({ mode: 'sleep', seconds: 30 });
  const h = await holder(id);
  process.kill(h.pid, 'SIGTERM');
  const back = await until(id, (j) => j.events.some((e) => e.from === 'PROCESSING' && e.to === 'QUEUED'),
    'handed back', 10000);
  const ev = back.events.find((e) => e.from === 'PROCESSING' && e.to === 'QUEUED');
  assert.equal(ev.detail, 'handed back: the worker shut down');
  await waitFor('worker exited', () => { try { process.kill(h.pid, 0); return false; } catch { return true; } }, 10000);
  // The job runs again (30 s of "work" is too long to wait for: cancel it
  // once it is running again, which proves it was picked up).
  const again = await until(id, (j) => j.status === 'PROCESSING' && j.attempt === h.attempt + 1,
    'running again', 30000);
  assert.equal(again.attempt, h.attempt + 1);
  const res = await fetch(`${process.env.RAP_GATEWAY_URL}/api/jobs/${id}/cancel`, {
    method: 'POST', headers: { Authorization: 'Bearer dev-key' } });
  assert.equal(res.status, 200);
  await restarted(h.name, h.pid);
});

const MGMT = `http://127.0.0.1:${process.env.RAP_AMQP_MGMT_PORT || 15679}`;
async function inDlq(id) {
  const res = await fetch(`${MGMT}/api/queues/%2F/jobs.dlq/get`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from('rap:rap').toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ count: 1000, ackmode: 'ack_requeue_true', encoding: 'auto' }),
  });
  return (await res.json()).find((m) => m.payload.includes(id));
}

test('a job that kills every worker running it ends DEAD after max_attempts, its message in the DLQ', async () => {
  const id = await faultJob({ mode: 'crash', failures: 100 }, { max_attempts: 2 });
  const job = await until(id, terminal, 'terminal', 90000);
  assert.equal(job.status, 'DEAD', JSON.stringify(job.events));
  assert.equal(job.attempt, 2);
  assert.match(job.error, /attempts exhausted/);
  const msg = await waitFor('message in jobs.dlq', () => inDlq(id), 15000, 250);
  assert.ok(msg.properties.headers['x-death'].some((d) => d.reason === 'rejected'));
  // The workers come back and keep working.
  const ok = await faultJob({ mode: 'succeed' });
  assert.equal((await until(ok, terminal, 'terminal', 60000)).status, 'COMPLETED');
});

test('past the quorum queue delivery limit the broker dead-letters the message and the job is DEAD', async () => {
  // More attempts allowed than deliveries: the broker's limit stops it first.
  const id = await faultJob({ mode: 'crash', failures: 100 }, { max_attempts: 20 });
  const job = await until(id, terminal, 'terminal', 120000);
  assert.equal(job.status, 'DEAD', JSON.stringify(job.events));
  assert.match(job.error, /dead-lettered from jobs\.work\.light \(delivery_limit\)/);
  const msg = await waitFor('message in jobs.dlq', () => inDlq(id), 15000, 250);
  assert.ok(msg.properties.headers['x-death'].some((d) => d.reason === 'delivery_limit'),
    JSON.stringify(msg.properties.headers['x-death']));
  const ok = await faultJob({ mode: 'succeed' });
  assert.equal((await until(ok, terminal, 'terminal', 60000)).status, 'COMPLETED');
});
