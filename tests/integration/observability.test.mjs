// Debian's Prometheus, started here on the platform's rules, scrapes the
// test stack's four services: the targets are up, the rules evaluate, every
// metric that the rules and the dashboard name is among the scraped series,
// every dashboard query is accepted, and job-api's gauges follow a real job.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SERVICE_URLS, createJob, upload, waitFor, jobEnded } from './helpers.mjs';
import { RULES, promExprs, metricNames } from '../contract/observability-files.mjs';

// SERVICE_URLS lists upload-api, job-api, notifier and worker, in this order.
const JOBS = ['rap-upload-api', 'rap-job-api', 'rap-notifier', 'rap-worker'];
const offset = Number(process.env.RAP_GATEWAY_PORT || 18080) - 18080;
const PROM = `http://127.0.0.1:${19090 + offset}`;
let prom, dir, log = '';

async function api(p) {
  const r = await fetch(`${PROM}/api/v1/${p}`);
  const body = await r.json();
  assert.equal(body.status, 'success', `${p}: ${JSON.stringify(body)}`);
  return body.data;
}
const query = (q) => api(`query?query=${encodeURIComponent(q)}`);

before(async () => {
  assert.equal(SERVICE_URLS.length, 4, 'RAP_SERVICE_URLS names the four services');
  dir = mkdtempSync(path.join(os.tmpdir(), 'rap-prometheus-'));
  const scrape = SERVICE_URLS.map((u, i) => `  - job_name: ${JOBS[i]}
    static_configs:
      - targets: ['${new URL(u).host}']`).join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${RULES}
scrape_configs:
${scrape}
`);
  prom = spawn('prometheus', [`--config.file=${dir}/prometheus.yml`,
    `--storage.tsdb.path=${dir}/data`, `--web.listen-address=${new URL(PROM).host}`,
    '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  prom.stderr.on('data', (d) => { log += d; });
  prom.on('exit', (code) => { if (code) log += `\nprometheus exited ${code}`; });
  await waitFor(`Prometheus ready at ${PROM}`, async () =>
    (await fetch(`${PROM}/-/ready`).catch(() => ({ ok: false }))).ok, 30000, 100)
    .catch((e) => { throw new Error(`${e.message}\n${log}`); });
});

after(() => {
  prom?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every service is scraped and up', async () => {
  const targets = await waitFor('four targets up', async () => {
    const t = (await api('targets')).activeTargets;
    return t.length === 4 && t.every((x) => x.health === 'up') && t;
  }, 20000, 200).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify((await api('targets')).activeTargets
      .map((x) => [x.labels.job, x.health, x.lastError]))}`);
  });
  assert.deepEqual(targets.map((t) => t.labels.job).sort(), [...JOBS].sort());
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
