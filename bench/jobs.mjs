// Benchmark: end-to-end throughput of durable no-op jobs (created through
// job-api, persisted with their outbox row, published with confirms,
// claimed, completed, acked) and the enqueue-to-start latency of single jobs
// on an idle system. Run against a stack started by scripts/up:
//   node bench/jobs.mjs [jobs=5000] [clients=32] [latency_samples=200] [batch=1]
// (latency_samples 0: throughput only).  bench/quick.sh runs it beside Celery.
// With batch > 1 the submitters use POST /jobs/batch, batch jobs a request.
// Environment: RAP_JOB_URL (default http://127.0.0.1:8102, job-api direct),
// RAP_UPLOAD_URL (default http://127.0.0.1:8101), RAP_PG_PORT (5439).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { jsonPoster } from './post.mjs';

const [jobs = 5000, clients = 32, samples = 200, batch = 1] = process.argv.slice(2).map(Number);
const JOB = process.env.RAP_JOB_URL || 'http://127.0.0.1:8102';
const UPLOAD = process.env.RAP_UPLOAD_URL || 'http://127.0.0.1:8101';
const PG_PORT = process.env.RAP_PG_PORT || '5439';
const NOTIFIER = process.env.RAP_NOTIFIER_WS || 'ws://127.0.0.1:8103/ws';
const H = { Authorization: 'Bearer dev-key' };
// One psql session for every query of the run: a psql process (and a new
// PostgreSQL backend) per 50 ms poll would cost the CPU being measured.
const session = spawn('psql', ['-h', '127.0.0.1', '-p', PG_PORT, '-U', 'postgres', '-d', 'rap',
  '-At', '-q', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: session.stdout });
let waiting = null;
let collected = [];
lines.on('line', (line) => {
  if (line !== '__end__') { collected.push(line); return; }
  const done = waiting;
  waiting = null;
  done(collected.join('\n').trim());
  collected = [];
});
session.on('exit', (code) => {
  if (waiting) throw new Error(`psql exited (${code}) during a query`);
});
const psql = (sql) => new Promise((resolve) => {
  waiting = resolve;
  session.stdin.write(`${sql};\n\\echo __end__\n`);
});

const form = new FormData();
form.append('file', new Blob(['bench']), 'bench.txt');
const up = await (await fetch(`${UPLOAD}/uploads`, { method: 'POST', headers: H, body: form })).json();
const body = JSON.stringify({ object_key: up.object_key, type: 'noop' });
// The submitters post through bench/post.mjs (node:http, not fetch()).
const { post: postUrl, close } = jsonPoster(H, clients);
const post = (path, payload) => postUrl(`${JOB}${path}`, payload);
const create = async () => {
  const r = await post('/jobs', body);
  if (r.status !== 202) throw new Error(`create: ${r.status} ${r.text}`);
  return JSON.parse(r.text).job_id;
};

const batchBody = JSON.stringify({ jobs: Array.from({ length: batch }, () => JSON.parse(body)) });
const createMany = async () => {
  const r = await post('/jobs/batch', batchBody);
  if (r.status !== 202) throw new Error(`create batch: ${r.status} ${r.text}`);
  return JSON.parse(r.text).jobs.map((j) => j.job_id);
};

// Throughput: `clients` concurrent submitters; the clock stops when the
// last job is COMPLETED in PostgreSQL.
const mark = await psql('SELECT now()');
const t0 = performance.now();
let next = 0;
const ids = [];
await Promise.all(Array.from({ length: clients }, async () => {
  while (next < jobs) {
    if (batch > 1) { next += batch; ids.push(...await createMany()); } else { next++; ids.push(await create()); }
  }
}));
const tSubmitted = performance.now();
for (;;) {
  // Counted through the index of unfinished jobs: a count over the whole
  // jobs table, every 50 ms, would cost more as the table grows and steal
  // the CPU being measured.
  const left = Number(await psql(`SELECT count(*) FROM jobs WHERE type = 'noop'
    AND status IN ('CREATED', 'QUEUED', 'PROCESSING', 'RETRYING') AND created_at >= '${mark}'`));
  if (left === 0 && next >= jobs) break;
  if (performance.now() - t0 > 600000) throw new Error(`${left} of ${jobs} not completed in 10 min`);
  await new Promise((r) => setTimeout(r, 50));
}
const tDone = performance.now();

// The relay is still publishing the status events of the burst (four per
// job): wait until the outbox is empty, so the system is idle.
for (const t = performance.now(); Number(await psql('SELECT count(*) FROM outbox')) > 0;) {
  if (performance.now() - t > 600000) throw new Error('the outbox did not drain in 10 min');
  await new Promise((r) => setTimeout(r, 200));
}
const tDrained = performance.now();

// Latency on an idle system: one job at a time, created_at -> started_at
// as PostgreSQL recorded them. The end of each job is awaited as the
// notifier pushes it, not by polling, which would load the system timed.
const lat = [];
if (samples > 0) {
  const ws = new WebSocket(NOTIFIER);
  const completed = new Set();
  let wake = () => {};
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    if (m.type === 'job.status' && m.to === 'COMPLETED') { completed.add(m.job_id); wake(); }
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'subscribe', api_key: 'dev-key', since: 1e15 }));
  for (let i = 0; i < samples; i++) {
    const id = await create();
    const deadline = Date.now() + 30000;
    // The push may come before create() returns: check, then wait for the next.
    while (!completed.has(id)) {
      if (Date.now() > deadline) throw new Error(`job ${id} not pushed as COMPLETED in 30 s`);
      await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 1000).unref(); });
    }
    completed.delete(id);
    lat.push(Number(await psql(`SELECT extract(epoch FROM started_at - created_at) * 1000 FROM jobs WHERE id = '${id}'`)));
  }
  ws.close();
}
close();
session.stdin.end();
lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))].toFixed(2);
console.log(JSON.stringify({
  what: 'platform', jobs: ids.length, clients, batch,
  submit_per_s: Math.round(ids.length / ((tSubmitted - t0) / 1000)),
  end_to_end_per_s: Math.round(ids.length / ((tDone - t0) / 1000)),
  seconds: ((tDone - t0) / 1000).toFixed(1),
  events_drained_s: ((tDrained - t0) / 1000).toFixed(1),
  enqueue_to_start_ms: samples > 0
    ? { samples, p50: pct(50), p99: pct(99), max: lat.at(-1).toFixed(2) } : null,
}));
