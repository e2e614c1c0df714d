// RAP_JOB_RETENTION_DAYS (30 on the test stack): job-api removes finished
// jobs that ended longer ago than that, with their events and their output
// object in S3, and keeps recent jobs and DEAD ones whatever their age.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createJob, getJob, upload, waitFor, jobEnded } from './helpers.mjs';

const JOB_API = `http://127.0.0.1:${process.env.RAP_JOB_PORT || 8102}`;
const S3 = `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}/${process.env.RAP_S3_BUCKET || 'rap-data'}`;
const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
  '-U', 'postgres', '-d', 'rap', '-Atq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
const expiredTotal = async () => Number(/^rap_jobs_expired_total (\d+)$/m
  .exec(await (await fetch(`${JOB_API}/metrics`)).text())?.[1] ?? NaN);
const backdate = (id, days) =>
  psql(`UPDATE jobs SET finished_at = now() - interval '${days} days' WHERE id = '${id}' RETURNING status`);

test('a finished job past the retention goes with its events and output; recent and DEAD jobs stay', async () => {
  const key = (await upload(Buffer.from('retention input'))).body.object_key;
  const make = async (params) => {
    const r = await createJob({ object_key: key, type: 'test.fault', params });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.job_id;
  };
  const [old, recent, failed, dead] = [await make({ mode: 'succeed' }), await make({ mode: 'succeed' }),
    await make({ mode: 'permanent' }), await make({ mode: 'transient', failures: 99 })];
  const oldJob = await jobEnded(old);
  assert.equal(oldJob.status, 'COMPLETED');
  assert.equal((await jobEnded(recent)).status, 'COMPLETED');
  assert.equal((await jobEnded(failed)).status, 'FAILED');
  assert.equal((await jobEnded(dead, 90000)).status, 'DEAD');
  const output = oldJob.result.output_key;
  assert.ok(output, JSON.stringify(oldJob.result));
  assert.equal((await fetch(`${S3}/${output}`)).status, 200, 'the output is in S3');
  const before = await expiredTotal();

  assert.equal(backdate(old, 31), 'COMPLETED');
  assert.equal(backdate(failed, 40), 'FAILED');
  assert.equal(backdate(recent, 29), 'COMPLETED');
  // A DEAD job waits for an operator: no finished_at age removes it.
  psql(`UPDATE jobs SET finished_at = now() - interval '400 days', created_at = now() - interval '400 days'
        WHERE id = '${dead}'`);

  await waitFor('the old jobs removed', async () =>
    (await getJob(old)).status === 404 && (await getJob(failed)).status === 404, 20000, 200);
  assert.equal(psql(`SELECT count(*) FROM job_events WHERE job_id IN ('${old}', '${failed}')`), '0',
    'their events went with them');
  assert.equal((await fetch(`${S3}/${output}`)).status, 404, 'the output object is deleted');
  assert.equal((await getJob(recent)).body.status, 'COMPLETED', 'a job within the retention stays');
  assert.equal((await getJob(dead)).body.status, 'DEAD', 'a DEAD job stays');
  assert.equal(await expiredTotal(), before + 2);
});

test('the database refuses a state outside the machine, on insert and on update', async () => {
  // Migration 0014 replaced the foreign key to job_states with a CHECK:
  // an unknown state is still refused, and the guard still refuses a move
  // that no transition allows.
  const key = (await upload(Buffer.from('states'))).body.object_key;
  const quiet = { stdio: ['ignore', 'pipe', 'pipe'] };
  assert.throws(() => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
    '-U', 'postgres', '-d', 'rap', '-v', 'ON_ERROR_STOP=1', '-c',
    `INSERT INTO jobs (id, owner, type, object_key, status)
     VALUES (gen_random_uuid(), 'dev', 'noop', '${key}', 'BOGUS')`], quiet), /jobs_status_known/);
  const r = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'succeed' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await jobEnded(r.body.job_id)).status, 'COMPLETED');
  assert.throws(() => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
    '-U', 'postgres', '-d', 'rap', '-v', 'ON_ERROR_STOP=1', '-c',
    `UPDATE jobs SET status = 'BOGUS' WHERE id = '${r.body.job_id}'`], quiet), /cannot go from COMPLETED to BOGUS/);
  assert.equal(psql(`SELECT status FROM jobs WHERE id = '${r.body.job_id}'`), 'COMPLETED');
});
