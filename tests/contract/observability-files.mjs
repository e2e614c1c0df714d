// What the monitoring files name, for the observability tests: the PromQL
// expressions of the rules and the dashboards, the metric names in an
// expression, and the metrics the services register in their C sources.
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OBS = path.join(ROOT, 'observability');
export const RULES = path.join(OBS, 'prometheus', 'rules', 'rap.rules.yml');

function yamlFile(file) {
  const r = spawnSync('python3', ['-c',
    'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file],
  { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const rules = () => yamlFile(RULES).groups.flatMap((g) => g.rules);
export const alertNames = () => rules().filter((r) => r.alert).map((r) => r.alert);

export function dashboards() {
  const dir = path.join(OBS, 'grafana', 'dashboards');
  return readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, json: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) }));
}

// Every PromQL expression, with the dashboards' variables given the values
// "All" would give them: [{ where, expr }].
export function promExprs() {
  const out = rules().map((r) => ({ where: `rule ${r.alert || r.record}`, expr: r.expr }));
  for (const { file, json } of dashboards())
    for (const p of json.panels)
      for (const t of p.targets ?? [])
        if (p.datasource?.uid === '${datasource}')
          out.push({ where: `${file}: ${p.title}`, expr: t.expr.replaceAll('$instance', '.*') });
  return out;
}

const NOT_METRICS = new Set(['sum', 'min', 'max', 'avg', 'count', 'rate', 'irate', 'increase',
  'delta', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or',
  'unless', 'bool', 'offset', 'topk', 'bottomk', 'abs', 'clamp_min', 'clamp_max',
  'histogram_quantile', 'time', 'vector', 'scalar', 'absent', 'label_replace', 'e', 'inf', 'nan']);

// The metric names an expression reads: what is left once strings, label
// matchers, ranges, grouping lists and functions are taken out.
export function metricNames(expr) {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set();
  for (const [tok] of bare.matchAll(/[A-Za-z_:][\w:]*/g))
    if (!NOT_METRICS.has(tok.toLowerCase())) names.add(tok);
  return [...names];
}

export const RABBITMQ_METRICS = ['rabbitmq_queue_messages', 'rabbitmq_queue_messages_ready',
  'rabbitmq_queue_messages_unacked'];

// The metric families the platform exports: every name given to
// rap_metrics_add in lib/ and services/ (and the _bucket, _sum and _count
// series of every rap_metrics_add_histogram), the process_* series of
// lib/adapters/metrics/metrics.c, Prometheus's own `up`, and the rules' recorded names.
export function registeredMetrics() {
  const names = new Set(['up']);
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c')) {
        const src = readFileSync(p, 'utf8');
        for (const [, n] of src.matchAll(/rap_metrics_add\([^"]*"([a-z_:]+)"/g)) names.add(n);
        // A histogram family is read through its _bucket, _sum and _count.
        for (const [, n] of src.matchAll(/rap_metrics_add_histogram\([^"]*"([a-z_:]+)"/g))
          for (const suffix of ['_bucket', '_sum', '_count']) names.add(n + suffix);
        for (const [, n] of src.matchAll(/# TYPE (process_[a-z_]+) /g)) names.add(n);
      }
    }
  };
  walk(path.join(ROOT, 'lib'));
  walk(path.join(ROOT, 'services'));
  for (const r of rules()) if (r.record) names.add(r.record);
  // RabbitMQ's exporter (rabbitmq_prometheus): the live test checks these
  // against what it really serves.
  for (const n of RABBITMQ_METRICS) names.add(n);
  return names;
}
