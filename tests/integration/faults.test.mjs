// Failure paths driven by the test.fault processor: transient retries through
// the TTL tiers, permanent failures, exhausted attempts and poison messages
// in the dead-letter queue, and cancel of a running job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_KEY, GATEWAY, OTHER_KEY, assertError, auth, createJob, getJob, upload, waitFor,
} from './helpers.mjs';

const MGMT = `http://127.0.0.1:${process.env.RAP_AMQP_MGMT_PORT || 15679}`;
const MGMT_AUTH = { Authorization: `Basic ${Buffer.from('rap:rap').toString('base64')}` };

const objectKeys = {};
async function faultJob(params, extra = {}, key = API_KEY) {
  if (!objectKeys[key]) objectKeys[key] = (await upload(Buffer.from('fault input'), { key })).body.object_key;
  const res = await createJob({ object_key: objectKeys[key], type: 'test.fault', params, ...extra }, { key });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

async function until(jobId, pred, what, timeoutMs = 40000, key = API_KEY) {
  return waitFor(`${jobId} ${what}`, async () => {
    const j = await getJob(jobId, key);
    return pred(j.body) && j.body;
  }, timeoutMs, 100);
}

const terminal = (j) => ['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'].includes(j.status);

// Looks at the DLQ through the management API, leaving the messages there.
async function dlqMessages() {
  const res = await fetch(`${MGMT}/api/queues/%2F/jobs.dlq/get`, {
    method: 'POST',
    headers: { ...MGMT_AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify({ count: 1000, ackmode: 'ack_requeue_true', encoding: 'auto' }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

async function publishRaw(payload, routingKey = 'test.fault') {
  const res = await fetch(`${MGMT}/api/exchanges/%2F/jobs/publish`, {
    method: 'POST',
    headers: { ...MGMT_AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify({ properties: { delivery_mode: 2 }, routing_key: routingKey, payload, payload_encoding: 'string' }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).routed, true);
}

test('transient failures retry through the TTL tiers and then complete', async () => {
  const id = await faultJob({ mode: 'transient', failures: 2 });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.attempt, 3);
  const path = job.events.map((e) => `${e.from}->${e.to}`);
  assert.equal(path.filter((p) => p === 'PROCESSING->RETRYING').length, 2, path.join(' '));
  assert.ok(path.includes('RETRYING->PROCESSING'), path.join(' '));
  const retry = job.events.find((e) => e.to === 'RETRYING');
  assert.match(retry.detail, /^retry in \d+ s: injected transient failure on attempt 1 of 2$/);
  assert.equal(job.result.attempt, 3);
});

test('a permanent failure is FAILED at once with the error stored', async () => {
  const id = await faultJob({ mode: 'permanent' });
  const job = await until(id, terminal, 'terminal');
  // RAP_JOB_MAX_ATTEMPTS=test.fault=4 in the test stack: the type's default.
  assert.equal(job.max_attempts, 4);
  assert.equal(job.status, 'FAILED');
  assert.equal(job.attempt, 1);
  assert.equal(job.error, 'injected permanent failure');
  assert.equal(job.events.at(-1).detail, 'injected permanent failure');
});

test('exhausted attempts make the job DEAD and its message lands in the DLQ with x-death', async () => {
  const id = await faultJob({ mode: 'transient', failures: 10 }, { max_attempts: 2 });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'DEAD');
  assert.equal(job.attempt, 2);
  assert.match(job.error, /injected transient failure on attempt 2/);
  const msg = await waitFor('message in jobs.dlq', async () =>
    (await dlqMessages()).find((m) => m.payload.includes(id)), 15000, 250);
  const death = msg.properties.headers['x-death'];
  assert.ok(Array.isArray(death) && death.some((d) => d.queue === 'jobs.work.light' && d.reason === 'rejected'),
    JSON.stringify(death));
  // Its first attempt's retry expired in a tier and came back to its pool's
  // queue (test.fault's pool is light), where the second attempt was rejected.
  assert.ok(death.some((d) => /^jobs\.retry\.\d+s$/.test(d.queue) && d.reason === 'expired'),
    JSON.stringify(death));
});

test('poison messages are dead-lettered and the workers keep running', async () => {
  const marker = `poison-${Date.now()}`;
  await publishRaw(`{"not json ${marker}`);
  await publishRaw(JSON.stringify({ v: 99, job_id: '00000000-0000-4000-8000-000000000000', type: 'test.fault', object_key: marker }));
  await publishRaw(JSON.stringify({ v: 1, job_id: '00000000-0000-4000-8000-00000000abcd', type: 'test.fault', object_key: marker }));
  const found = await waitFor('three poison messages in jobs.dlq', async () => {
    const msgs = (await dlqMessages()).filter((m) => m.payload.includes(marker));
    return msgs.length === 3 && msgs;
  }, 15000, 250);
  for (const m of found) {
    assert.ok(m.properties.headers['x-death'].some((d) => d.reason === 'rejected'));
  }
  // Still serving: a normal job completes.
  const id = await faultJob({ mode: 'succeed' });
  assert.equal((await until(id, terminal, 'terminal')).status, 'COMPLETED');
});

test('a poison message for a real job makes that job DEAD with the reason', async () => {
  const id = await faultJob({ mode: 'sleep', seconds: 60 });
  await until(id, (j) => j.status === 'PROCESSING', 'PROCESSING', 20000);
  await publishRaw(JSON.stringify({ v: 7, job_id: id, type: 'test.fault', object_key: 'k' }));
  const job = await until(id, terminal, 'terminal', 20000);
  assert.equal(job.status, 'DEAD');
  assert.match(job.error, /schema version 7 is not supported/);
  // An unknown job type is poison too.
  const marker = `unknown-type-${Date.now()}`;
  await publishRaw(JSON.stringify({ v: 1, job_id: id, type: 'video.transcode', object_key: marker }));
  await waitFor('unknown type in jobs.dlq', async () =>
    (await dlqMessages()).some((m) => m.payload.includes(marker)), 15000, 250);
});

test('a redelivered copy of a finished job is acked and skipped: no second effect', async () => {
  const id = await faultJob({ mode: 'succeed' });
  const done = await until(id, terminal, 'terminal');
  assert.equal(done.status, 'COMPLETED');
  const copy = JSON.stringify({ v: 1, job_id: id, type: 'test.fault', object_key: objectKeys[API_KEY] });
  await publishRaw(copy);
  await publishRaw(copy);
  // A job created after the copies completes only once they were consumed
  // (one queue, in order), so the copies have been handled by then.
  const after = await faultJob({ mode: 'succeed' });
  await until(after, terminal, 'terminal');
  const again = (await getJob(id)).body;
  assert.equal(again.status, 'COMPLETED');
  assert.equal(again.attempt, 1);
  assert.deepEqual(again.events.map((e) => e.event_id), done.events.map((e) => e.event_id));
  assert.ok(!(await dlqMessages()).some((m) => m.payload === copy), 'not dead-lettered');
});

test('cancel stops a running job between chunks; finished and unknown jobs cannot be cancelled', async () => {
  const id = await faultJob({ mode: 'sleep', seconds: 60 });
  await until(id, (j) => j.status === 'PROCESSING', 'PROCESSING', 20000);
  const cancel = (jobId) => fetch(`${GATEWAY}/api/jobs/${jobId}/cancel`, { method: 'POST', headers: auth() })
    .then(async (r) => ({ status: r.status, body: await r.json() }));
  const res = await cancel(id);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, 'CANCELLED');
  const job = await until(id, (j) => j.status === 'CANCELLED', 'CANCELLED');
  assert.equal(job.events.at(-1).from, 'PROCESSING');
  // The worker noticed (it heartbeats every second) and is free again.
  const next = await faultJob({ mode: 'succeed' });
  assert.equal((await until(next, terminal, 'terminal', 20000)).status, 'COMPLETED');
  assert.equal((await getJob(id)).body.status, 'CANCELLED');
  assertError(await cancel(id), 409, 'already_finished');
  assertError(await cancel('00000000-0000-4000-8000-000000000000'), 404, 'not_found');
  const bad = await fetch(`${GATEWAY}/api/jobs/not-a-uuid-but-exactly-36-characters/cancel`, { method: 'POST', headers: auth() });
  assert.equal(bad.status, 400);
});

test('operators list DEAD jobs with their reason and replay one or all', async () => {
  // A second owner, so that "replay all" touches only this test's jobs.
  const K = OTHER_KEY;
  const list = async (q) => {
    const r = await fetch(`${GATEWAY}/api/jobs?${q}`, { headers: auth(K) });
    return { status: r.status, body: await r.json() };
  };
  const a = await faultJob({ mode: 'until_replayed' }, { max_attempts: 1 }, K);
  const b = await faultJob({ mode: 'until_replayed' }, { max_attempts: 1 }, K);
  for (const id of [a, b]) assert.equal((await until(id, terminal, 'terminal', 40000, K)).status, 'DEAD');

  const dead = await list('status=DEAD&limit=500');
  assert.equal(dead.status, 200);
  const mine = dead.body.jobs.filter((j) => j.job_id === a || j.job_id === b);
  assert.equal(mine.length, 2);
  for (const j of mine) assert.match(j.error, /attempts exhausted|until the job is replayed/);
  assert.ok(dead.body.jobs.every((j) => j.status === 'DEAD'));

  // Pagination: newest first, `next` continues where the page ended.
  const p1 = await list('limit=1');
  const p2 = await list(`limit=1&after=${p1.body.next}`);
  assert.equal(p1.body.jobs.length, 1);
  assert.notEqual(p2.body.jobs[0].job_id, p1.body.jobs[0].job_id);
  assert.ok(p2.body.jobs[0].created_at <= p1.body.jobs[0].created_at);
  assertError(await list('status=done'), 400, 'bad_request');
  assertError(await list('limit=0'), 400, 'bad_request');
  assertError(await list('after=x'), 400, 'bad_request');

  // Replay one: DEAD -> QUEUED with attempts reset, then it completes.
  const replay = (path) => fetch(`${GATEWAY}/api/jobs/${path}`, { method: 'POST', headers: auth(K) })
    .then(async (r) => ({ status: r.status, body: await r.json() }));
  const one = await replay(`${a}/replay`);
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.equal(one.body.status, 'QUEUED');
  const doneA = await until(a, (j) => j.status === 'COMPLETED', 'COMPLETED after replay', 40000, K);
  assert.equal(doneA.attempt, 1);
  const ev = doneA.events.find((e) => e.from === 'DEAD' && e.to === 'QUEUED');
  assert.equal(ev.detail, 'replayed by the owner');
  assertError(await replay(`${a}/replay`), 409, 'not_dead');
  assertError(await replay('00000000-0000-4000-8000-000000000000/replay'), 404, 'not_found');

  // Replay all: every DEAD job of the owner's, b among them (an earlier
  // test file may have left others of this owner's DEAD).
  const before = await list('status=DEAD&limit=500');
  assert.ok(before.body.jobs.some((j) => j.job_id === b));
  const all = await replay('replay-dead');
  assert.equal(all.status, 200);
  assert.equal(all.body.replayed, before.body.jobs.length);
  assert.equal((await list('status=DEAD&limit=500')).body.jobs.filter((j) => j.job_id === b).length, 0);
  assert.equal((await until(b, (j) => j.status === 'COMPLETED', 'COMPLETED after replay-all', 40000, K)).status, 'COMPLETED');
});

test('a job whose type no queue is bound for is DEAD with the reason; jobs flow again once it is bound', async () => {
  // The relay publishes work as mandatory: RabbitMQ returns a message no
  // queue takes, and the relay marks its job DEAD (lib/domain/outbox.c).
  const binding = `${MGMT}/api/bindings/%2F/e/jobs/q/jobs.work.light`;
  const unbind = await fetch(`${binding}/test.fault`, { method: 'DELETE', headers: MGMT_AUTH });
  assert.equal(unbind.status, 204);
  let id;
  try {
    id = await faultJob({ mode: 'permanent' });
    const job = await until(id, terminal, 'terminal');
    assert.equal(job.status, 'DEAD', JSON.stringify(job));
    assert.equal(job.error, 'no queue is bound for job type test.fault');
    assert.equal(job.attempt, 0, 'it never ran');
    assert.deepEqual(job.events.map((e) => e.to), ['CREATED', 'QUEUED', 'DEAD']);
  } finally {
    const bind = await fetch(binding, {
      method: 'POST',
      headers: { ...MGMT_AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ routing_key: 'test.fault' }),
    });
    assert.equal(bind.status, 201);
  }
  const next = await until(await faultJob({ mode: 'permanent' }), terminal, 'terminal');
  assert.equal(next.status, 'FAILED', JSON.stringify(next));
});
