// POST /api/jobs/batch: many jobs in one transaction, all or none, with an
// Idempotency-Key for the whole batch; workers claim and complete quick
// jobs (noop) many per statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventClient, GATEWAY, assertError, auth, getJob, upload, waitFor } from './helpers.mjs';

async function createBatch(jobs, headers = {}) {
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json', ...headers },
    body: typeof jobs === 'string' ? jobs : JSON.stringify({ jobs }),
  });
  return { status: res.status, body: await res.json() };
}

const NOTIFIER = `http://127.0.0.1:${process.env.RAP_NOTIFIER_PORT || 8103}`;
const batchesIn = async () => Number((await (await fetch(`${NOTIFIER}/metrics`)).text())
  .match(/^rap_notifier_batches_total (\d+)/m)?.[1] ?? NaN);

let objectKey;
async function key() {
  if (!objectKey) objectKey = (await upload(Buffer.from('batch input'))).body.object_key;
  return objectKey;
}

test('a batch of 300 noop jobs is created at once and every job completes', async () => {
  const k = await key();
  const jobs = Array.from({ length: 300 }, () => ({ object_key: k, type: 'noop' }));
  // A live follower of all the owner's jobs: the relay sends runs of
  // events as job.status.batch messages, which the notifier must unpack.
  const events = new EventClient();
  await events.open();
  assert.equal((await events.subscribe()).type, 'subscribed');
  const batchesBefore = await batchesIn();
  const r = await createBatch(jobs);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.jobs.length, 300);
  assert.equal(new Set(r.body.jobs.map((j) => j.job_id)).size, 300);
  assert.ok(r.body.jobs.every((j) => j.status === 'CREATED'));
  const done = await waitFor('all 300 COMPLETED', async () => {
    const all = await Promise.all(r.body.jobs.map(async (j) => (await getJob(j.job_id)).body));
    return all.every((j) => j.status === 'COMPLETED') && all;
  }, 60000, 250);
  // Each job went CREATED -> ... -> PROCESSING -> COMPLETED exactly once,
  // and the workers claimed at least some of them many per statement.
  for (const j of done) {
    assert.equal(j.attempt, 1);
    assert.equal(j.events.filter((e) => e.to === 'COMPLETED').length, 1);
    assert.deepEqual(j.result, {});
  }
  const batched = done.filter((j) => j.events.some((e) => e.to === 'PROCESSING'
    && / \(batch\)$/.test(e.detail || '')));
  assert.ok(batched.length > 0, 'no job was claimed in a batch');
  // Every transition of every job was pushed live, once and in order.
  const ids = new Set(r.body.jobs.map((j) => j.job_id));
  const pushed = () => events.messages.filter((m) => m.type === 'job.status' && ids.has(m.job_id) && !m.replay);
  await waitFor('every COMPLETED pushed', () => pushed().filter((m) => m.to === 'COMPLETED').length === 300, 30000, 100);
  for (const j of done) {
    const seen = pushed().filter((m) => m.job_id === j.job_id).map((m) => m.event_id);
    assert.deepEqual(seen, j.events.map((e) => e.event_id), `events of ${j.job_id}`);
  }
  events.close();
  assert.ok(await batchesIn() > batchesBefore, 'no job.status.batch message reached the notifier');
});

test('the same Idempotency-Key returns the same batch; another body is a conflict', async () => {
  const k = `batch-${Date.now()}`;
  const jobs = [{ object_key: await key(), type: 'noop' }, { object_key: await key(), type: 'noop', max_attempts: 2 }];
  const a = await createBatch(jobs, { 'Idempotency-Key': k });
  const b = await createBatch(jobs, { 'Idempotency-Key': k });
  assert.equal(a.status, 202, JSON.stringify(a.body));
  assert.equal(b.status, 200, JSON.stringify(b.body));
  assert.equal(b.body.idempotent_replay, true);
  assert.deepEqual(b.body.jobs.map((j) => j.job_id), a.body.jobs.map((j) => j.job_id));
  assertError(await createBatch(jobs.slice(0, 1), { 'Idempotency-Key': k }), 409, 'idempotency_conflict');
  assertError(await createBatch([...jobs].reverse(), { 'Idempotency-Key': k }), 409, 'idempotency_conflict');
});

test('a bad batch is refused whole, naming the request at fault', async () => {
  const ok = { object_key: await key(), type: 'noop' };
  const newest = async () => (await (await fetch(`${GATEWAY}/api/jobs?limit=1`,
    { headers: auth() })).json()).jobs[0].job_id;
  const before = await newest();
  const unknownObject = await createBatch([ok, { object_key: 'uploads/none', type: 'noop' }]);
  assertError(unknownObject, 422, 'unknown_object');
  assert.match(unknownObject.body.detail, /jobs\[1\]/);
  const unknownType = await createBatch([ok, ok, { object_key: ok.object_key, type: 'no.such' }]);
  assertError(unknownType, 422, 'unknown_job_type');
  assert.match(unknownType.body.detail, /jobs\[2\]/);
  assertError(await createBatch([]), 400, 'bad_request');
  assertError(await createBatch([ok, { type: 'noop' }]), 400, 'bad_request');
  assertError(await createBatch('{"jobs":'), 400, 'bad_request');
  assertError(await createBatch(Array.from({ length: 1001 }, () => ok)), 400, 'bad_request');
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, { method: 'GET', headers: auth() });
  assertError({ status: res.status, body: await res.json() }, 405);
  // Nothing of the refused batches was created, not even their good jobs.
  assert.equal(await newest(), before);
});
