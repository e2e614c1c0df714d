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
// RAP_GATEWAY_URL, RAP_JOB_URL, RAP_UPLOAD_URL as bench/jobs.mjs;
// RAP_BENCH_RECEIVERS (2): the processes the clients are spread over.  One
// process receiving 74,000 frames a second (1,000 owner followers at 20
// jobs/s) was itself most of the latency it measured: a burst of events
// waited for its single event loop.
import { execFileSync, fork, spawn } from 'node:child_process';
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
// p50, p99 and max of the merged latency histogram (whole ms).
const histPct = () => {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const total = keys.reduce((n, k) => n + hist.get(k), 0);
  const at = (p) => {
    let seen = 0;
    for (const k of keys) if ((seen += hist.get(k)) > Math.floor((p / 100) * total)) return k;
    return null;
  };
  return { p50: at(50), p99: at(99), max: keys.at(-1) ?? null };
};
const until = async (what, cond, ms) => {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

if (process.argv[2] === '--receiver') await receiver(...process.argv.slice(3));

const { post, close } = jsonPoster(H, 16);

const form = new FormData();
form.append('file', new Blob(['fanout']), 'fanout.txt');
const up = await (await fetch(`${UPLOAD}/uploads`, { method: 'POST', headers: H, body: form })).json();
const body = JSON.stringify({ object_key: up.object_key, type: 'noop' });

// Followers, opened in waves, each subscribed to all of the owner's jobs
// from now on (since far ahead: no replay), spread over RAP_BENCH_RECEIVERS
// processes (receiver() below); client k is receiver k % n's.
const mine = new Set(); // the jobs of this run (an event may come before its POST's answer)
const hist = new Map(); // latency ms -> events, over every receiver
const completedOf = new Map(); // job id -> followers told it COMPLETED
let received = 0;
let closedEarly = 0;
const closedBy = {}; // close code -> clients the notifier closed during the run
const rssBefore = rssKb();
const nRecv = Math.max(1, Math.min(clients, Number(process.env.RAP_BENCH_RECEIVERS || 2)));
const receivers = Array.from({ length: nRecv }, (_, r) => {
  const count = Math.floor(clients / nRecv) + (r < clients % nRecv ? 1 : 0);
  const child = fork(new URL(import.meta.url).pathname, ['--receiver', WS_URL, follow, String(count)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const rec = { child, ready: null, done: null };
  rec.ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    rec.done = new Promise((resolveDone) => {
      child.on('message', (m) => {
        if (m.op === 'ready') resolve();
        if (m.op === 'error') reject(new Error(m.message));
        if (m.op === 'tick' || m.op === 'done') {
          received += m.received;
          for (const [id, n] of m.completed) completedOf.set(id, (completedOf.get(id) || 0) + n);
          for (const [v, n] of m.hist) hist.set(v, (hist.get(v) || 0) + n);
        }
        if (m.op === 'done') {
          closedEarly += m.closedEarly;
          for (const [code, n] of Object.entries(m.closedBy)) closedBy[code] = (closedBy[code] || 0) + n;
          resolveDone();
        }
      });
    });
  });
  return rec;
});
const tOpen = performance.now();
await Promise.all(receivers.map((r) => r.ready));
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

// RATE jobs a second for SECONDS, in ticks of 100 ms.  (Each job at its
// own time, 1/RATE s apart, was measured too: its events then come in more,
// smaller bursts, written and read in more, smaller pieces, and on two
// cores the receivers' extra CPU made every latency longer.)
let rssPeak = rssIdle;
const t0 = performance.now();
let sent = 0;
while (performance.now() - t0 < seconds * 1000) {
  const due = Math.floor(((performance.now() - t0) / 1000) * rate) - sent;
  for (let i = 0; i < due; i++) {
    const k = sent % clients;
    sent++;
    post(`${JOB}/jobs`, body).then((r) => {
      if (r.status !== 202) throw new Error(`create: ${r.status} ${r.text}`);
      const id = JSON.parse(r.text).job_id;
      mine.add(id);
      if (follow === 'job') receivers[k % nRecv].child.send({ op: 'sub', i: Math.floor(k / nRecv), job_id: id });
    });
  }
  rssPeak = Math.max(rssPeak, rssKb());
  await new Promise((r) => setTimeout(r, 100));
}
// Every follower should get every job's COMPLETED; wait up to 60 s more,
// and 10 ms more a client (10,000 owner followers are more than two node
// processes can read at the rate the notifier writes).
const want = follow === 'job' ? sent : sent * clients;
const completedNow = () => [...mine].reduce((n, id) => n + (completedOf.get(id) || 0), 0);
const tEnd = Date.now() + 60000 + 10 * clients;
let completed = 0;
while ((completed = completedNow()) < want && Date.now() < tEnd) {
  rssPeak = Math.max(rssPeak, rssKb());
  await new Promise((r) => setTimeout(r, 100));
}
const [health, healthWs] = await Promise.all(probes.map((p) => p.stop()));
for (const r of receivers) r.child.send({ op: 'close' });
await Promise.race([Promise.all(receivers.map((r) => r.done)), new Promise((r) => setTimeout(r, 30000))]);
await new Promise((r) => setTimeout(r, 2000)); // the notifier frees what they held
const rssAfter = rssKb();
close();

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
  latency_ms: histPct(),
  receivers: nRecv,
  healthz_ms: ms(health),
  healthz_ws_port_ms: ms(healthWs),
  notifier_rss_kb: { before: rssBefore, idle_clients: rssIdle, peak: rssPeak, after: rssAfter,
    per_idle_client: Number(((rssIdle - rssBefore) / clients).toFixed(1)) },
}));
process.exit(0);

// A receiver process: COUNT followers on URL; what they received (counts,
// latencies as a histogram, the jobs they were told COMPLETED) is sent up
// every 250 ms.
async function receiver(url, followWhat, countArg) {
  const count = Number(countArg);
  const sockets = [];
  const lat = new Map();
  let completed = new Map();
  let got = 0;
  let closed = 0;
  let closing = false;
  const closedCodes = {};
  const openOne = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    let subscribed = false;
    const told = new Set();
    const timer = setTimeout(() => reject(new Error('no subscription in 60 s')), 60000);
    ws.once('error', (e) => { clearTimeout(timer); reject(e); });
    // A job follower subscribes once it is given its job; until then it
    // follows nothing.
    ws.once('open', () => {
      if (followWhat === 'job') { subscribed = true; clearTimeout(timer); resolve(); return; }
      ws.send(JSON.stringify({ type: 'subscribe', api_key: 'dev-key', since: 1e15 }));
    });
    ws.on('close', (code) => {
      closed++;
      if (!closing) closedCodes[code] = (closedCodes[code] || 0) + 1;
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'subscribed') {
        if (!subscribed) { subscribed = true; clearTimeout(timer); resolve(); }
        return;
      }
      if (m.type !== 'job.status') return;
      got++;
      // A job follower's first events may come as the replay of its
      // subscribe (they happened before it knew the job): not live.
      if (!m.replay) {
        const v = Date.now() - Date.parse(m.at);
        lat.set(v, (lat.get(v) || 0) + 1);
      }
      // Once a job a client (replay and live delivery may both bring it).
      if (m.to === 'COMPLETED' && !told.has(m.job_id)) {
        told.add(m.job_id);
        completed.set(m.job_id, (completed.get(m.job_id) || 0) + 1);
      }
    });
  });
  const flush = (op, extra = {}) => {
    process.send({ op, received: got, completed: [...completed], hist: [...lat], ...extra });
    got = 0;
    completed = new Map();
    lat.clear();
  };
  try {
    for (let i = 0; i < count; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, count - i) }, openOne));
    }
  } catch (e) {
    process.send({ op: 'error', message: String(e) }, () => process.exit(1));
    return;
  }
  const ticker = setInterval(() => flush('tick'), 250);
  process.on('message', async (m) => {
    if (m.op === 'sub') {
      sockets[m.i].send(JSON.stringify({ type: 'subscribe', api_key: 'dev-key', job_id: m.job_id }));
      return;
    }
    clearInterval(ticker);
    closing = true;
    for (const ws of sockets) ws.close();
    for (const end = Date.now() + 30000; closed < sockets.length && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    flush('done', { closedEarly: closed, closedBy: closedCodes });
    process.disconnect();
  });
  process.send({ op: 'ready' });
  await new Promise(() => {}); // the parent decides when it is over
}
