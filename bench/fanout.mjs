// Benchmark: WebSocket fan-out (issue 12, point 3). CLIENTS WebSockets,
// while RATE no-op jobs a second are created for SECONDS. follow=owner:
// every client follows all of one owner's jobs (each event goes to all);
// follow=job: the jobs are handed to the clients in turn and each client,
// told its job's id, subscribes to that job alone (each event goes to one).
// Measured: every live status event's delivery latency (its `at`, when
// PostgreSQL recorded the transition, to its arrival here), how many
// COMPLETED events reached the clients that follow the job, the notifier's
// /healthz latency under the load on its admin port (served off the
// WebSocket loop) and on its WebSocket port (on the loop), and the
// notifiers' memory (VmRSS, summed) before, with the idle clients, at its
// peak and after they left (run it on a fresh stack: memory a run freed may
// stay with the process). Prints one JSON line; nothing else may create
// jobs meanwhile (every status event received counts). direct: every
// client on the first notifier; gateway: through nginx, over all of them.
// On a stack started by scripts/up:
//   node bench/fanout.mjs [clients=1000] [rate=20] [seconds=20] [via=direct|gateway] [follow=owner|job]
// Environment: RAP_NOTIFIER_PORT (8103), RAP_NOTIFIER_ADMIN_PORT (8190),
// RAP_GATEWAY_URL, RAP_JOB_URL, RAP_UPLOAD_URL as bench/jobs.mjs.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { jsonPoster } from './post.mjs';

const [clients = 1000, rate = 20, seconds = 20] = process.argv.slice(2, 5).map(Number);
const via = process.argv[5] || 'direct';
const follow = process.argv[6] || 'owner';
const NOTIFIER = `127.0.0.1:${process.env.RAP_NOTIFIER_PORT || 8103}`;
const ADMIN = `127.0.0.1:${process.env.RAP_NOTIFIER_ADMIN_PORT || 8190}`;
const GATEWAY = process.env.RAP_GATEWAY_URL || 'http://127.0.0.1:8080';
const JOB = process.env.RAP_JOB_URL || 'http://127.0.0.1:8102';
const UPLOAD = process.env.RAP_UPLOAD_URL || 'http://127.0.0.1:8101';
const WS_URL = via === 'gateway' ? `${GATEWAY.replace(/^http/, 'ws')}/ws` : `ws://${NOTIFIER}/ws`;
const H = { Authorization: 'Bearer dev-key' };

// Every notifier process (direct: its clients are all on the first, but the
// others hold their idle size too, so the sum moves the same).
const notifierPids = execFileSync('pgrep', ['-x', 'rap-notifier'], { encoding: 'utf8' }).trim().split('\n');
const rssKb = () => notifierPids.reduce((n, pid) => n
  + Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]), 0);
const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : null);
const until = async (what, cond, ms) => {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const { post, close } = jsonPoster(H, 16);

const form = new FormData();
form.append('file', new Blob(['fanout']), 'fanout.txt');
const up = await (await fetch(`${UPLOAD}/uploads`, { method: 'POST', headers: H, body: form })).json();
const body = JSON.stringify({ object_key: up.object_key, type: 'noop' });

// Followers, opened in waves, each subscribed to all of the owner's jobs
// from now on (since far ahead: no replay).
const mine = new Set(); // the jobs of this run (an event may come before its POST's answer)
const latencies = [];
const completedOf = new Map(); // job id -> followers told it COMPLETED
let received = 0;
let closedEarly = 0;
let closing = false; // set when the run is over and the bench closes them
const closedBy = {}; // close code -> clients the notifier closed during the run
const sockets = [];
const rssBefore = rssKb();
const open = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(WS_URL);
  sockets.push(ws);
  let subscribed = false;
  const told = new Set();
  const timer = setTimeout(() => reject(new Error('no subscription in 60 s')), 60000);
  ws.once('error', (e) => { clearTimeout(timer); reject(e); });
  // A job follower subscribes once it is given its job; until then it
  // follows nothing.
  ws.once('open', () => {
    if (follow === 'job') { subscribed = true; clearTimeout(timer); resolve(); return; }
    ws.send(JSON.stringify({ type: 'subscribe', api_key: 'dev-key', since: 1e15 }));
  });
  ws.on('close', (code) => {
    closedEarly++;
    if (!closing) closedBy[code] = (closedBy[code] || 0) + 1;
  });
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    if (m.type === 'subscribed') {
      if (!subscribed) { subscribed = true; clearTimeout(timer); resolve(); }
      return;
    }
    if (m.type !== 'job.status') return;
    received++;
    // A job follower's first events may come as the replay of its
    // subscribe (they happened before it knew the job): not live.
    if (!m.replay) latencies.push(Date.now() - Date.parse(m.at));
    // Once a job a client (replay and live delivery may both bring it).
    if (m.to === 'COMPLETED' && !told.has(m.job_id)) {
      told.add(m.job_id);
      completedOf.set(m.job_id, (completedOf.get(m.job_id) || 0) + 1);
    }
  });
});
const tOpen = performance.now();
for (let i = 0; i < clients; i += 500) {
  await Promise.all(Array.from({ length: Math.min(500, clients - i) }, open));
}
const openS = (performance.now() - tOpen) / 1000;
const rssIdle = rssKb();

// The first notifier's /healthz, every 100 ms, on a connection of its own:
// on its admin port (what probes use) and on its WebSocket port.  The probe
// runs in a process of its own: this one's event loop is busy receiving,
// and would make any answer look late.
const PROBE = `
  const http = require('node:http');
  let stop = false;
  process.on('message', () => { stop = true; });
  const out = [];
  (async () => {
    while (!stop) {
      const t = performance.now();
      try {
        await new Promise((resolve, reject) => {
          http.get('http://' + process.argv[1] + '/healthz', (res) => { res.resume(); res.on('end', resolve); })
            .on('error', reject).setTimeout(10000, function () { this.destroy(new Error('timeout')); });
        });
        out.push(performance.now() - t);
      } catch { out.push(10000); }
      await new Promise((r) => setTimeout(r, 100));
    }
    process.send(out, () => process.exit(0));
  })();`;
const prober = (hostport) => {
  const child = spawn(process.execPath, ['-e', PROBE, hostport], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const done = new Promise((resolve) => child.once('message', resolve));
  return { stop: () => { child.send('stop'); return done; } };
};
const probes = [prober(ADMIN), prober(NOTIFIER)];

// RATE jobs a second for SECONDS, in ticks of 100 ms.
let rssPeak = rssIdle;
const t0 = performance.now();
let sent = 0;
while (performance.now() - t0 < seconds * 1000) {
  const due = Math.floor(((performance.now() - t0) / 1000) * rate) - sent;
  for (let i = 0; i < due; i++) {
    const ws = sockets[sent % sockets.length];
    sent++;
    post(`${JOB}/jobs`, body).then((r) => {
      if (r.status !== 202) throw new Error(`create: ${r.status} ${r.text}`);
      const id = JSON.parse(r.text).job_id;
      mine.add(id);
      if (follow === 'job') ws.send(JSON.stringify({ type: 'subscribe', api_key: 'dev-key', job_id: id }));
    });
  }
  rssPeak = Math.max(rssPeak, rssKb());
  await new Promise((r) => setTimeout(r, 100));
}
// Every follower should get every job's COMPLETED; wait up to 60 s more.
const want = follow === 'job' ? sent : sent * clients;
const completedNow = () => [...mine].reduce((n, id) => n + (completedOf.get(id) || 0), 0);
const tEnd = Date.now() + 60000;
let completed = 0;
while ((completed = completedNow()) < want && Date.now() < tEnd) {
  rssPeak = Math.max(rssPeak, rssKb());
  await new Promise((r) => setTimeout(r, 100));
}
const [health, healthWs] = await Promise.all(probes.map((p) => p.stop()));
closing = true;
for (const ws of sockets) ws.close();
await until('the followers to close', () => closedEarly >= sockets.length, 30000).catch(() => {});
await new Promise((r) => setTimeout(r, 2000)); // the notifier frees what they held
const rssAfter = rssKb();
close();

latencies.sort((a, b) => a - b);
health.sort((a, b) => a - b);
healthWs.sort((a, b) => a - b);
const ms = (a) => ({ p50: Number(pct(a, 50)?.toFixed(1)), p99: Number(pct(a, 99)?.toFixed(1)),
  max: Number(a.at(-1)?.toFixed(1)) });
console.log(JSON.stringify({
  what: 'fanout', via, follow, clients, rate, seconds, jobs: sent,
  open_s: Number(openS.toFixed(1)),
  events_received: received,
  completed_delivered: completed, completed_wanted: want,
  completed_delivered_pct: Number(((100 * completed) / want).toFixed(2)),
  // 4008: too slow, told to resume with since (the queue bound).
  closed_during_run: closedBy,
  latency_ms: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies.at(-1) ?? null },
  healthz_ms: ms(health),
  healthz_ws_port_ms: ms(healthWs),
  notifier_rss_kb: { before: rssBefore, idle_clients: rssIdle, peak: rssPeak, after: rssAfter,
    per_idle_client: Number(((rssIdle - rssBefore) / clients).toFixed(1)) },
}));
process.exit(0);
