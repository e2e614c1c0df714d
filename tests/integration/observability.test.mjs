// The stack's Prometheus (Debian's, started by scripts/stack.sh on the
// platform's rules, scraping every second under the test harness) watches
// the test stack: the targets are up, the rules evaluate, every metric that
// the rules and the dashboard name is among the scraped series, every
// dashboard query is accepted, and job-api's gauges follow a real job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJob, upload, waitFor, jobEnded } from './helpers.mjs';
import { promExprs, metricNames } from '../contract/observability-files.mjs';

const PROM = process.env.RAP_PROMETHEUS_URL || 'http://127.0.0.1:9090';
const WORKERS = Number(process.env.RAP_WORKERS || 2);
const NOTIFIERS = Number(process.env.RAP_NOTIFIERS || 2);

async function api(p) {
  const r = await fetch(`${PROM}/api/v1/${p}`);
  const body = await r.json();
  assert.equal(body.status, 'success', `${p}: ${JSON.stringify(body)}`);
  return body.data;
}
const query = (q) => api(`query?query=${encodeURIComponent(q)}`);

test('every service and RabbitMQ\'s exporter are scraped and up', async () => {
  const n = 3 + WORKERS + NOTIFIERS;
  const targets = await waitFor(`${n} targets up`, async () => {
    const t = (await api('targets')).activeTargets;
    return t.length === n && t.every((x) => x.health === 'up') && t;
  }, 20000, 200).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify((await api('targets')).activeTargets
      .map((x) => [x.labels.job, x.labels.instance, x.health, x.lastError]))}`);
  });
  assert.deepEqual([...new Set(targets.map((t) => t.labels.job))].sort(),
    ['rabbitmq', 'rap-job-api', 'rap-notifier', 'rap-upload-api', 'rap-worker']);
  assert.equal(targets.filter((t) => t.labels.job === 'rap-worker').length, WORKERS);
  assert.equal(targets.filter((t) => t.labels.job === 'rap-notifier').length, NOTIFIERS);
});

test('every rule evaluates without error and every metric the rules and the dashboard name is scraped', async () => {
  // Rules evaluate every second: wait for one evaluation of each.
  const rules = await waitFor('every rule evaluated', async () => {
    const r = (await api('rules')).groups.flatMap((g) => g.rules);
    return r.length > 0 && r.every((x) => x.lastEvaluation && !x.lastEvaluation.startsWith('0001')) && r;
  }, 20000, 200);
  for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  // A rate needs two scrapes: the recorded series come a few seconds in.
  const recorded = rules.filter((r) => r.type === 'recording').map((r) => r.name);
  assert.ok(recorded.length >= 3, 'the rules record series');
  const names = new Set(await waitFor('every recorded series present', async () => {
    const n = await api('label/__name__/values');
    return recorded.every((r) => n.includes(r)) && n;
  }, 20000, 200));
  const missing = new Set();
  for (const { where, expr } of promExprs())
    for (const m of metricNames(expr))
      if (!names.has(m)) missing.add(`${m} (${where})`);
  assert.deepEqual([...missing], [], 'named but not scraped');
});

test('RabbitMQ\'s exporter gives a series per queue of the topology', async () => {
  const r = await query('rabbitmq_queue_messages_ready');
  const queues = new Set(r.result.map((x) => x.metric.queue));
  for (const q of ['jobs.work.quick', 'jobs.work.light', 'jobs.work.data', 'jobs.work.image', 'jobs.work.pdf', 'jobs.work.video', 'jobs.work.virus', 'jobs.dlq', 'jobs.dead-letters', 'jobs.retry.1s'])
    assert.ok(queues.has(q), `no series for ${q}: ${[...queues].join(', ')}`);
});

test('Prometheus accepts every query of the dashboard', async () => {
  const exprs = promExprs().filter((e) => !e.where.startsWith('rule '));
  assert.ok(exprs.length >= 20);
  for (const { where, expr } of exprs) {
    const r = await fetch(`${PROM}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await r.json();
    assert.equal(body.status, 'success', `${where}: ${expr}: ${body.error}`);
  }
});

test('job-api\'s gauges follow a job: rap_jobs{state="PROCESSING"} while it runs, back when it ends', async () => {
  const key = (await upload(Buffer.from('observability input'))).body.object_key;
  const q = 'sum(rap_jobs{state="PROCESSING"})';
  const base = Number((await query(q)).result[0]?.value[1] ?? 0);
  const r = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'sleep', seconds: 4 } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitFor('Prometheus sees the job PROCESSING', async () =>
    Number((await query(q)).result[0]?.value[1] ?? 0) > base, 15000, 200);
  const job = await jobEnded(r.body.job_id, 30000);
  assert.equal(job.status, 'COMPLETED');
  await waitFor('the PROCESSING count back down', async () =>
    Number((await query(q)).result[0]?.value[1] ?? 0) <= base, 15000, 200);
  // The outbox drains: nothing waits to be published on a healthy stack.
  await waitFor('outbox empty', async () =>
    Number((await query('max(rap_outbox_pending)')).result[0]?.value[1] ?? -1) === 0, 15000, 200);
});
