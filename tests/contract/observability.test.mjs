// The monitoring files in observability/ hold together without a running
// stack: Prometheus accepts its config and rules, the alert rules pass
// their promtool unit tests, and the dashboard and the rules only name
// metrics that the services register (or that the rules record). The live
// counterpart, tests/integration/observability.test.mjs, runs Prometheus
// on the same rules against the real services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { promExprs, metricNames, registeredMetrics, alertNames } from './observability-files.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OBS = path.join(ROOT, 'observability');

function promtool(...args) {
  const r = spawnSync('promtool', args, { cwd: path.join(OBS, 'prometheus'), encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

test('Prometheus accepts observability/prometheus/prometheus.yml and its rule files', () => {
  assert.match(promtool('check', 'config', 'prometheus.yml'), /SUCCESS: 1 rule files found/);
  assert.match(promtool('check', 'rules', 'rules/rap.rules.yml'), /SUCCESS: \d+ rules found/);
});

test('every YAML file of observability/ passes yamllint with the tree\'s .yamllint (Loki and Promtail have no other checker here)', () => {
  const config = path.join(ROOT, '.yamllint'); // the one scripts/check uses
  const r = spawnSync('yamllint', ['-f', 'parsable', '-c', config, OBS], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('every alert fires on the series it watches and stays silent on healthy ones (promtool test rules)', () => {
  assert.match(promtool('test', 'rules', 'rules/rap.rules.test.yml'), /SUCCESS/);
});

test('every alert has a severity, a summary and a description, and a runbook entry in docs/observability.md', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'observability.md'), 'utf8');
  const rules = JSON.parse(spawnSync('python3', ['-c',
    'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
    path.join(OBS, 'prometheus/rules/rap.rules.yml')], { encoding: 'utf8' }).stdout);
  const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
  assert.ok(alerts.length >= 8, `${alerts.length} alerts`);
  for (const a of alerts) {
    assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, a.alert);
    assert.ok(a.annotations?.summary && a.annotations?.description, a.alert);
    assert.ok(doc.includes(`### ${a.alert}`), `docs/observability.md has no runbook entry "### ${a.alert}"`);
  }
  assert.deepEqual(alertNames().sort(), alerts.map((a) => a.alert).sort());
});

test('the dashboard and the rules name only metrics the services register or the rules record', () => {
  const known = registeredMetrics();
  // Sanity: the scan finds each service's own metrics and the shared ones.
  for (const m of ['rap_jobs', 'rap_outbox_oldest_seconds', 'rap_uploads_busy_total',
    'rap_worker_jobs_total', 'rap_notifier_clients', 'rap_http_requests_total',
    'process_resident_memory_bytes']) assert.ok(known.has(m), `the scan missed ${m}`);
  const exprs = promExprs();
  assert.ok(exprs.length >= 30, `${exprs.length} expressions`);
  for (const { where, expr } of exprs)
    for (const name of metricNames(expr))
      assert.ok(known.has(name), `${where}: ${name} is not a metric of the platform (in ${expr})`);
});

test('the dashboard is valid Grafana JSON: unique panel ids, datasources by variable, no overlapping panels', () => {
  const dir = path.join(OBS, 'grafana', 'dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 1);
  for (const f of files) {
    const d = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    assert.ok(d.uid && d.title && Array.isArray(d.panels), f);
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${f}: duplicate panel ids`);
    const vars = new Set(d.templating.list.map((v) => v.name));
    const cells = new Set();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${f}: panel ${p.title} is outside the 24-column grid`);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          assert.ok(!cells.has(`${i},${j}`), `${f}: panel ${p.title} overlaps another at ${i},${j}`);
          cells.add(`${i},${j}`);
        }
      if (p.type === 'row') continue;
      const uid = p.datasource?.uid ?? '';
      assert.match(uid, /^\$\{(\w+)\}$/, `${f}: ${p.title} names its datasource by variable`);
      assert.ok(vars.has(uid.slice(2, -1)), `${f}: ${p.title} uses an undefined variable ${uid}`);
      assert.ok(p.targets?.length, `${f}: ${p.title} has no query`);
    }
  }
});
