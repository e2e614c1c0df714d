// Single job creations that arrive together are committed together
// (services/job-api/group.c, rap_job_create_group): one transaction, one
// WAL flush for a group, while each request gets the answer it would have
// had alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, auth, createJob, getJob, upload, waitFor } from './helpers.mjs';

const JOB_API = `http://127.0.0.1:${process.env.RAP_JOB_PORT || 8102}`;
const groups = async () => Number((await (await fetch(`${JOB_API}/metrics`)).text())
  .match(/^rap_job_create_groups_total (\d+)/m)?.[1] ?? NaN);

test('concurrent single creations share commits, and one that fails fails alone', async () => {
  const k = (await upload(Buffer.from('group input'))).body.object_key;
  assert.ok(Number.isFinite(await groups()), 'job-api exports rap_job_create_groups_total');
  const n = 40;
  const bad = 17;
  // Bytes that are not UTF-8 in object_key pass job-api's checks today but
  // not PostgreSQL's: that creation fails inside whichever group it lands
  // in, and the group's transaction with it; the others must still be
  // created, each on its own.
  const badBody = Buffer.concat([Buffer.from('{"object_key":"uploads/'), Buffer.from([0xff, 0xfe]),
    Buffer.from('","type":"noop"}')]);
  const round = (withBad) => Promise.all(Array.from({ length: n }, async (_, i) => {
    if (!withBad || i !== bad) return createJob({ object_key: k, type: 'noop' });
    const r = await fetch(`${GATEWAY}/api/jobs`, {
      method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: badBody,
    });
    return { status: r.status, body: await r.text() };
  }));
  // How many share a commit depends on how the requests arrive (through
  // nginx, over new connections): 40 made 3 to 22 groups on a quiet
  // machine.  One group per request would be 40; a round on a busy machine
  // may come close, so up to three rounds, one of which must share.
  const made = [];
  for (let r = 0; r < 3 && !made.some((m) => m <= n - 4); r++) {
    const before = await groups();
    const answers = await round(false);
    made.push(await groups() - before);
    answers.forEach((a, i) => assert.equal(a.status, 202, `creation ${i}: ${JSON.stringify(a.body)}`));
  }
  assert.ok(made.some((m) => m >= 1 && m <= n - 4),
    `${n} concurrent creations were committed in ${made.join(', ')} groups (at most ${n - 4} expected)`);
  // The one PostgreSQL refuses fails; the group it was in is created anew,
  // each on its own.
  const answers = await round(true);
  answers.forEach((a, i) => {
    if (i === bad) assert.notEqual(a.status, 202, 'the creation PostgreSQL refuses is not accepted');
    else assert.equal(a.status, 202, `creation ${i}: ${JSON.stringify(a.body)}`);
  });
  const ids = answers.filter((_, i) => i !== bad).map((a) => a.body.job_id);
  assert.equal(new Set(ids).size, n - 1, 'each creation made a job of its own');
  for (const id of ids) {
    await waitFor(`job ${id} COMPLETED`, async () => (await getJob(id)).body.status === 'COMPLETED',
      60000);
  }
});

test('one Idempotency-Key sent many times at once makes one job, whatever the grouping', async () => {
  const k = (await upload(Buffer.from('group idem'))).body.object_key;
  const key = `group-${Date.now()}-${Math.random()}`;
  const answers = await Promise.all(Array.from({ length: 12 }, () => createJob(
    { object_key: k, type: 'noop' }, { headers: { 'Idempotency-Key': key } })));
  const ids = new Set(answers.map((a) => a.body.job_id));
  assert.equal(ids.size, 1, `one job for one key: ${[...ids].join(', ')}`);
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200,
    200, 200, 200, 200, 202], 'one creation (202), the rest replays of it (200)');
  // The same key with another body is still refused, grouped or not.
  const k2 = (await upload(Buffer.from('group idem, another'))).body.object_key;
  const other = await Promise.all([1, 2].map(() => createJob(
    { object_key: k2, type: 'noop' }, { headers: { 'Idempotency-Key': key } })));
  for (const o of other) assert.equal(o.status, 409);
});
