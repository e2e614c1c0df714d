// The sandboxed processor on the real stack (docs/sandbox.md): each outcome
// of a rap-processor child, driven by the test.sandbox processor (its
// limits, lib/domain/jobtype.c: 15 s wall, 3 s CPU, 128 MiB, 8 MiB of
// output, 16 MiB of input), plus file.inspect in the child, row errors,
// outputs, progress, cancellation and a job that runs well past RabbitMQ's
// consumer timeout (the test stack's is 5 s; scripts/test). Every FAILED
// outcome is permanent: one attempt, and the workers go on serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  EventClient, GATEWAY, auth, createJob, getJob, jobEnded, randomBytes, sha256, upload, waitFor,
} from './helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const MGMT = `http://127.0.0.1:${process.env.RAP_AMQP_MGMT_PORT || 15679}`;
const MGMT_AUTH = { Authorization: `Basic ${Buffer.from('rap:rap').toString('base64')}` };
const WORKER_PORT = Number(process.env.RAP_WORKER_PORT || 8104);
const WORKERS = Number(process.env.RAP_WORKERS || 2);

let inputKey;
async function sandboxJob(params, { data } = {}) {
  let key = inputKey;
  if (data) key = (await upload(data)).body.object_key;
  else if (!key) key = inputKey = (await upload(Buffer.from('sandbox input\n'))).body.object_key;
  const res = await createJob({ object_key: key, type: 'test.sandbox', params });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

const until = (id, pred, what, ms = 30000) => waitFor(`${id} ${what}`, async () => {
  const j = (await getJob(id)).body;
  return pred(j) && j;
}, ms, 50);
const terminal = (j) => ['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'].includes(j.status);

// A hostile or failing processor: FAILED at once, one attempt, never retried.
async function failsWith(params, code, pattern) {
  const id = await sandboxJob(params);
  const job = await until(id, terminal, 'terminal', 40000);
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.attempt, 1, 'never retried');
  assert.ok(job.error.startsWith(`${code}: `), job.error);
  if (pattern) assert.match(job.error, pattern);
  assert.ok(!job.events.some((e) => e.to === 'RETRYING'), 'no retry');
  return job;
}

// The workers go on serving: a normal sandboxed job completes.
async function stillServing() {
  const id = await sandboxJob({ mode: 'succeed' });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
}

function psql(sql) {
  return execFileSync('/usr/lib/postgresql/15/bin/psql', ['-X', '-q', '-t', '-A', '-h', '127.0.0.1',
    '-p', process.env.RAP_PG_PORT, '-U', 'postgres', '-d', 'rap', '-c', sql], { encoding: 'utf8' }).trim();
}

// The live rap-processor children of this stack's workers, by pid.
function children() {
  const workers = new Set();
  for (let i = 1; i <= WORKERS; i++) {
    try { workers.add(fs.readFileSync(path.join(STATE, 'run', `worker-${i}.child.pid`), 'utf8').trim()); } catch { /* restarting */ }
  }
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || !workers.has(ppid)) continue;
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].endsWith('/rap-processor')) out.push(Number(pid));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

const alive = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
};

// A presigned GET of the job's output (GET /api/jobs/{id}/output).
async function outputUrl(id) {
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/output`, { headers: auth() });
  assert.equal(res.status, 200);
  return (await res.json()).url;
}

async function workerMetric(name) {
  let sum = 0;
  for (let i = 0; i < WORKERS; i++) {
    const text = await (await fetch(`http://127.0.0.1:${WORKER_PORT + i}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

test('file.inspect runs in the child and answers as it always did', async () => {
  const data = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300000)]);
  const up = await upload(data);
  const res = await createJob({ object_key: up.body.object_key, type: 'file.inspect' });
  const job = await jobEnded(res.body.job_id);
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.deepEqual(Object.keys(job.result).sort(), ['mime_type', 'output_key', 'sha256', 'size']);
  assert.equal(job.result.size, data.length);
  assert.equal(job.result.sha256, sha256(data));
  assert.equal(job.result.mime_type, 'application/pdf');
  assert.equal(job.result.output_key, `processed/${job.job_id}/result.json`);
  // The stored object is the result, byte for byte as before.
  const stored = await (await fetch(await outputUrl(job.job_id))).text();
  assert.equal(stored, `{"size":${data.length},"sha256":"${sha256(data)}","mime_type":"application/pdf",`
    + `"output_key":"processed/${job.job_id}/result.json"}`);
});

test('a sandboxed job reads its input from a scratch copy and completes', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const id = await sandboxJob({ mode: 'succeed' }, { data });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.result.bytes, data.length);
  assert.equal(job.result.output_key, `processed/${id}/result.json`);
});

test('an input over the type\'s limit fails too_large without running', async () => {
  const id = await sandboxJob({ mode: 'succeed' }, { data: Buffer.alloc(16 * 1024 * 1024 + 1, 1) });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'FAILED');
  assert.match(job.error, /^too_large: /);
  assert.equal(job.attempt, 1);
});

test('wall time: the child is killed and the job FAILS time_limit', async () => {
  const job = await failsWith({ mode: 'sleep', seconds: 120 }, 'time_limit', /wall time over 15 s/);
  const took = Date.parse(job.finished_at) - Date.parse(job.started_at);
  assert.ok(took >= 15000 && took < 25000, `${took} ms`);
  await stillServing();
});

test('CPU time: RLIMIT_CPU stops a busy loop, the job FAILS time_limit', async () => {
  await failsWith({ mode: 'loop' }, 'time_limit', /CPU time over 3 s \(SIG(XCPU|KILL)\)/);
});

test('memory: a child that grows past its limit FAILS memory_limit, not a crash', async () => {
  await failsWith({ mode: 'alloc', mb: 2048 }, 'memory_limit', /128 MiB/);
  await stillServing();
});

test('a crash by signal FAILS processor_crashed with the signal named', async () => {
  await failsWith({ mode: 'crash' }, 'processor_crashed', /SIGSEGV/);
  await stillServing();
});

test('a socket, an exec or an open for writing FAILS sandbox_violation with the call named', async () => {
  await failsWith({ mode: 'syscall' }, 'sandbox_violation', /socket \(41\)/);
  await failsWith({ mode: 'exec' }, 'sandbox_violation', /execve \(59\)/);
  await failsWith({ mode: 'open' }, 'sandbox_violation', /openat \(257\)/);
  assert.ok(!fs.existsSync('/tmp/rap-test-sandbox-open'), 'nothing was written');
  await stillServing();
});

test('row errors are stored in batches up to the cap, the rest counted in the result', async () => {
  const id = await sandboxJob({ mode: 'row_errors', count: 12000 });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  // RAP_JOB_ERRORS_MAX is 10000 by default.
  assert.deepEqual(job.result.row_errors, { reported: 12000, stored: 10000, dropped: 2000 });
  assert.equal(psql(`SELECT count(*) FROM job_errors WHERE job_id = '${id}'`), '10000');
  const [first] = psql(`SELECT row_no || '|' || coalesce(column_name, '-') || '|' || code || '|' || message
    || '|' || value || '|' || attempt FROM job_errors WHERE job_id = '${id}' ORDER BY row_no LIMIT 1`).split('\n');
  assert.equal(first, '2|-|not_a_number|amount is not a number|x0|1');
  // Each INSERT commits on its own: one transaction id per statement, and
  // 10000 rows took at most 21 of them (500 a statement).
  const statements = Number(psql(`SELECT count(DISTINCT xmin::text) FROM job_errors WHERE job_id = '${id}'`));
  assert.ok(statements <= 21, `${statements} statements`);
});

test('outputs are streamed to S3 under processed/<job>/ and named in the result', async () => {
  const id = await sandboxJob({ mode: 'output', mb: 6 });
  const job = await until(id, terminal, 'terminal');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.deepEqual(job.result.outputs, [{ name: 'data.bin', key: `processed/${id}/data.bin`,
    bytes: 6 * 1024 * 1024, content_type: 'application/octet-stream' }]);
  assert.equal(job.result.output_key, `processed/${id}/data.bin`);
  const body = Buffer.from(await (await fetch(await outputUrl(id))).arrayBuffer());
  const block = Buffer.alloc(65536);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7) & 0xff;
  assert.equal(body.length, 6 * 1024 * 1024);
  assert.equal(sha256(body), sha256(Buffer.concat(Array(96).fill(block))));
});

test('outputs over the type\'s limit FAIL output_limit', async () => {
  await failsWith({ mode: 'output', mb: 16 }, 'output_limit', /8 MiB/);
});

// The child writes its frames and exits at once; the worker often reads
// them after it has reaped the child.  The refusal still decides (before,
// such a job ended as "exited with status 0 without a result").
test('an output name used twice FAILS processor_crashed naming it, however soon the child exits', async () => {
  for (let i = 0; i < 3; i++) {
    await failsWith({ mode: 'repeat_output' }, 'processor_crashed',
      /broke the frame protocol \(output 'data\.bin' refused\)/);
  }
});

test('progress and stage reach GET /jobs/{id} and the WebSocket, never the history', async () => {
  const ws = new EventClient();
  await ws.open();
  try {
    const id = await sandboxJob({ mode: 'progress', seconds: 4 }, { data: randomBytes(400000) });
    assert.equal((await ws.subscribe({ job_id: id })).type, 'subscribed');
    const running = await until(id, (j) => j.status === 'PROCESSING' && j.stage && j.rows_done > 0,
      'progress recorded', 20000);
    assert.ok(['download', 'parse', 'validate', 'write'].includes(running.stage), running.stage);
    assert.ok(running.progress > 0 && running.progress < 1, String(running.progress));
    await until(id, (j) => j.estimated_completion !== null, 'an estimate', 10000);
    const job = await until(id, terminal, 'terminal');
    assert.equal(job.status, 'COMPLETED');
    assert.equal(job.stage, 'write');
    assert.equal(job.estimated_completion, null, 'no estimate once finished');
    const pushed = ws.messages.filter((m) => m.type === 'job.progress' && m.job_id === id);
    assert.ok(pushed.length >= 2, JSON.stringify(ws.messages));
    const stages = new Set(pushed.map((m) => m.stage));
    assert.ok(stages.has('parse') && stages.has('validate'), [...stages].join(','));
    for (const m of pushed) {
      assert.equal(m.owner, 'dev');
      assert.equal(m.job_type, 'test.sandbox');
      assert.ok(m.progress >= 0 && m.progress <= 1);
    }
    // About once a second at most.
    assert.ok(pushed.length <= 8, `${pushed.length} progress messages in ~4 s`);
    // Not stored: a new subscriber's replay holds status events only.
    const late = new EventClient();
    await late.open();
    try {
      await late.subscribe({ job_id: id });
      await late.waitFor('COMPLETED replayed', (m) => m.type === 'job.status' && m.to === 'COMPLETED', 10000);
      assert.ok(!late.messages.some((m) => m.type === 'job.progress'));
    } finally {
      late.close();
    }
  } finally {
    ws.close();
  }
});

test('cancel kills a running child in under a second', async (t) => {
  const before = new Set(children());
  const id = await sandboxJob({ mode: 'sleep', seconds: 60 });
  await until(id, (j) => j.status === 'PROCESSING', 'PROCESSING', 20000);
  const [pid] = await waitFor('its rap-processor child', () => {
    const now = children().filter((p) => !before.has(p));
    return now.length > 0 && now;
  }, 20000, 20);
  assert.ok(await workerMetric('rap_worker_children') >= 1);
  const t0 = Date.now();
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/cancel`, { method: 'POST', headers: auth() });
  assert.equal(res.status, 200);
  await waitFor(`child ${pid} gone`, () => !alive(pid), 5000, 10);
  const took = Date.now() - t0;
  t.diagnostic(`the child was gone ${took} ms after the cancel was requested`);
  assert.ok(took < 1000, `the child lived ${took} ms after the cancel`);
  assert.equal((await getJob(id)).body.status, 'CANCELLED');
  await waitFor('no child left', async () => await workerMetric('rap_worker_children') === 0, 5000, 50);
  await stillServing();
});

// The worker's consumer connection, as the management API shows it.
// The consumer connection of a worker's slot of a pool ("worker-1 light").
async function consumerConnection(worker, pool = 'light') {
  const list = await (await fetch(`${MGMT}/api/connections`, { headers: MGMT_AUTH })).json();
  return list.find((c) => c.client_properties?.connection_name === `${worker} ${pool}`);
}
// Its open channels (the management API's statistics lag up to 5 s); a
// connection that is gone has none.
async function channelsOf(conn) {
  const res = await fetch(`${MGMT}/api/connections/${encodeURIComponent(conn.name)}/channels`,
    { headers: MGMT_AUTH });
  if (res.status !== 200) return 0;
  return (await res.json()).length;
}
function holderOf(job) {
  return /claimed by (worker-\d+)/.exec(job.events.filter((e) => e.to === 'PROCESSING').at(-1).detail)[1];
}

test('control: a delivery held past the consumer timeout loses its channel', async () => {
  // test.fault's hang does not heartbeat, so its delivery is never acked
  // early: the broker closes the channel (5 s, checked every second).
  const up = await upload(Buffer.from('hang'));
  const res = await createJob({ object_key: up.body.object_key, type: 'test.fault',
    params: { mode: 'hang', seconds: 9, failures: 1 } });
  const running = await until(res.body.job_id, (j) => j.status === 'PROCESSING', 'PROCESSING', 20000);
  const conn = await consumerConnection(holderOf(running));
  assert.ok(conn, 'the worker is connected');
  await waitFor('the broker closed the channel', async () => await channelsOf(conn) === 0, 16000, 250);
  // The job still ends well: the sweeper re-queued it when its lease lapsed.
  assert.equal((await until(res.body.job_id, terminal, 'terminal', 40000)).status, 'COMPLETED');
});

test('a job runs well past the consumer timeout: acked early, completed once, the channel alive', async () => {
  const acks = await workerMetric('rap_worker_early_acks_total');
  const id = await sandboxJob({ mode: 'sleep', seconds: 12 });
  const running = await until(id, (j) => j.status === 'PROCESSING', 'PROCESSING', 20000);
  const worker = holderOf(running);
  const conn = await consumerConnection(worker);
  assert.ok(conn, 'the worker is connected');
  // Checked all along: the channel never closes.
  let done;
  while (!(done = terminal((await getJob(id)).body))) {
    assert.equal(await channelsOf(conn), 1, 'the consumer channel is open');
    await new Promise((r) => setTimeout(r, 500));
  }
  const job = (await getJob(id)).body;
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.attempt, 1);
  assert.equal(job.events.filter((e) => e.to === 'PROCESSING').length, 1, 'one claim, no redelivery');
  assert.ok(Date.parse(job.finished_at) - Date.parse(job.started_at) >= 12000);
  assert.ok(await workerMetric('rap_worker_early_acks_total') > acks);
  // The same connection, its channel consuming again.
  const after = await consumerConnection(worker);
  assert.equal(after.name, conn.name);
  assert.equal(after.connected_at, conn.connected_at);
  await stillServing();
});
