// The chaos test: 500 jobs submitted while workers are SIGKILLed again and
// again, RabbitMQ is restarted once, PostgreSQL is restarted once and job-api
// is killed once. Every accepted job must reach a terminal state, none may be
// lost, and every COMPLETED result must be right. Clients retry failed
// submissions with the same Idempotency-Key, as a real client would. As many
// noop jobs again go in through POST /jobs/batch, 25 a request, so the
// workers' batched claims and completions live through the same faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY, auth, createJob, getJob, randomBytes, sha256, upload, waitFor } from '../integration/helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const JOBS = Number(process.env.RAP_CHAOS_JOBS || 500);
const stack = (...args) => execFileSync(path.join(REPO, 'scripts/stack.sh'), args,
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
const childPid = (name) => {
  try { return Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8')); } catch { return 0; }
};
const kill = (name, sig = 'SIGKILL') => {
  const pid = childPid(name);
  if (!pid) return false;
  try { process.kill(pid, sig); return true; } catch { return false; }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const countLines = (re) => fs.readdirSync(path.join(STATE, 'logs')).filter((f) => f.startsWith('worker-'))
  .reduce((n, f) => n + fs.readFileSync(path.join(STATE, 'logs', f), 'utf8').split('\n').filter((l) => re.test(l)).length, 0);

// Submits one job, retrying (same Idempotency-Key) until it is accepted.
async function submit(i, objects) {
  const obj = objects[i % objects.length];
  const body = { object_key: obj.key, type: 'file.inspect' };
  const deadline = Date.now() + 120000;
  for (;;) {
    try {
      const r = await createJob(body, { headers: { 'Idempotency-Key': `chaos-${process.pid}-${i}` } });
      if (r.status === 202 || r.status === 200) return { id: r.body.job_id, sha: obj.sha, retried: r.status === 200 };
      assert.ok([502, 503, 504].includes(r.status), `unexpected ${r.status} ${JSON.stringify(r.body)}`);
    } catch (e) {
      if (!/fetch failed|JSON|Unexpected/.test(String(e))) throw e; // connection cut mid-request
    }
    assert.ok(Date.now() < deadline, `job ${i} not accepted within 120 s`);
    await sleep(200);
  }
}

// Submits a batch of n noop jobs, retrying (same Idempotency-Key) until it is accepted.
async function submitBatch(b, n, objects) {
  const body = JSON.stringify({ jobs: Array.from({ length: n }, () => ({ object_key: objects[0].key, type: 'noop' })) });
  const deadline = Date.now() + 120000;
  for (;;) {
    try {
      const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
        method: 'POST', body,
        headers: { ...auth(), 'Content-Type': 'application/json', 'Idempotency-Key': `chaos-batch-${process.pid}-${b}` },
      });
      const r = { status: res.status, body: await res.json() };
      if (r.status === 202 || r.status === 200) return r.body.jobs.map((j) => ({ id: j.job_id, noop: true }));
      assert.ok([502, 503, 504].includes(r.status), `unexpected ${r.status} ${JSON.stringify(r.body)}`);
    } catch (e) {
      if (!/fetch failed|JSON|Unexpected/.test(String(e))) throw e; // connection cut mid-request
    }
    assert.ok(Date.now() < deadline, `batch ${b} not accepted within 120 s`);
    await sleep(200);
  }
}

test(`chaos: ${JOBS} jobs through worker kills, broker and database restarts and a job-api kill`, async (t) => {
  const objects = [];
  for (let i = 0; i < 5; i++) {
    const data = randomBytes(4096 + i * 1000);
    const up = await upload(data, { filename: `chaos-${i}.bin` });
    assert.equal(up.status, 201);
    objects.push({ key: up.body.object_key, sha: sha256(data) });
  }
  const dupBefore = countLines(/duplicate delivery skipped/);
  const started = Date.now();
  const accepted = [];
  const noops = [];
  let submitting = true;

  const submitter = (async () => {
    for (let i = 0; i < JOBS; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(i + 25, JOBS); j++) batch.push(submit(j, objects));
      accepted.push(...await Promise.all(batch));
      noops.push(...await submitBatch(i / 25, Math.min(25, JOBS - i), objects));
    }
    submitting = false;
  })();

  const faults = { workerKills: 0, rabbitmqRestarts: 0, postgresRestarts: 0, jobApiKills: 0 };
  const chaos = (async () => {
    const plan = ['w', 'w', 'rabbitmq', 'w', 'w', 'job-api', 'w', 'postgres', 'w', 'w', 'w', 'w'];
    for (const step of plan) {
      await sleep(700);
      if (step === 'w') {
        if (kill(`worker-${1 + (faults.workerKills % 2)}`)) faults.workerKills++;
      } else if (step === 'job-api') {
        if (kill('job-api')) faults.jobApiKills++;
      } else {
        stack('stop', step);
        await sleep(1500);
        stack('up');
        faults[`${step}Restarts`]++;
      }
    }
  })();

  await Promise.all([submitter, chaos]);
  assert.equal(submitting, false);
  assert.equal(accepted.length, JOBS);
  assert.equal(new Set(accepted.map((a) => a.id)).size, JOBS, 'one job per Idempotency-Key');
  assert.equal(new Set(noops.map((a) => a.id)).size, JOBS, 'one batch per Idempotency-Key');
  const all = [...accepted, ...noops];

  const results = await waitFor('every accepted job terminal', async () => {
    const jobs = [];
    for (let i = 0; i < all.length; i += 50) {
      jobs.push(...await Promise.all(all.slice(i, i + 50).map(async (a) => {
        const r = await getJob(a.id).catch(() => ({ status: 0 }));
        return r.status === 200 ? r.body : null;
      })));
    }
    return jobs.every((j) => j && ['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'].includes(j.status)) && jobs;
  }, 240000, 1000);
  const drained = Date.now() - started;

  const byStatus = {};
  for (const j of results) byStatus[j.status] = (byStatus[j.status] || 0) + 1;
  assert.deepEqual(byStatus, { COMPLETED: 2 * JOBS }, JSON.stringify(byStatus));
  results.slice(0, JOBS).forEach((j, i) => assert.equal(j.result.sha256, accepted[i].sha, `job ${j.job_id} result`));
  results.forEach((j) => assert.equal(j.events.filter((e) => e.to === 'COMPLETED').length, 1, `job ${j.job_id} completed once`));
  const batchClaims = results.filter((j) => j.events.some((e) => / \(batch\)$/.test(e.detail || ''))).length;
  const extraAttempts = results.reduce((n, j) => n + j.attempt - 1, 0);
  const takeovers = results.reduce((n, j) => n + j.events.filter((e) => e.from === 'PROCESSING' && e.to === 'PROCESSING').length, 0);
  // The longest recovery: from the claim of an attempt that did not finish
  // to the next claim of the same job (an upper bound of the time the job
  // waited after its worker died).
  const recoveryMs = Math.max(0, ...results.map((j) => {
    const claims = j.events.filter((e) => e.to === 'PROCESSING').map((e) => Date.parse(e.at));
    return Math.max(0, ...claims.slice(1).map((at, k) => at - claims[k]));
  }));
  const duplicates = countLines(/duplicate delivery skipped/) - dupBefore;
  t.diagnostic(`chaos: ${JOBS} file.inspect jobs and ${JOBS} noop jobs in batches of 25 (${batchClaims} claimed in worker batches), ${faults.workerKills} worker SIGKILLs, ${faults.rabbitmqRestarts} RabbitMQ restart, `
    + `${faults.postgresRestarts} PostgreSQL restart, ${faults.jobApiKills} job-api kill; all COMPLETED with correct sha256; `
    + `drained in ${drained} ms; ${duplicates} duplicate deliveries absorbed, ${takeovers} lease take-overs, `
    + `${extraAttempts} extra attempts; longest recovery ${recoveryMs} ms`);
});
