// The job-type registry on a running stack: GET /api/job-types with the
// test stack's settings applied, params checked against each type's schema
// (422 invalid_params naming the field), attempts from the registry, a work
// queue per pool that every worker consumes, a worker limited to its pools
// by RAP_WORKER_POOLS, stale bindings removed when a service declares the
// topology, and services that refuse to start on a setting that names what
// the registry does not have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { GATEWAY, assertError, auth, createJob, getJob, upload, waitFor } from './helpers.mjs';

const BUILD = process.env.RAP_BUILD_DIR || path.resolve('build');
const MGMT = `http://127.0.0.1:${process.env.RAP_AMQP_MGMT_PORT || 15679}`;
const MGMT_AUTH = { Authorization: `Basic ${Buffer.from('rap:rap').toString('base64')}` };
const WORKERS = Number(process.env.RAP_WORKERS || 2);
const ENABLED = (process.env.RAP_JOB_TYPES || 'file.inspect,noop,csv.validate,xlsx.validate,xls.validate,image.thumbnail,pdf.text,video.probe')
  .split(',');

const mgmt = async (p) => {
  const res = await fetch(`${MGMT}/api/${p}`, { headers: MGMT_AUTH });
  assert.equal(res.status, 200, `management API ${p}`);
  return res.json();
};

async function jobTypes() {
  const res = await fetch(`${GATEWAY}/api/job-types`, { headers: auth() });
  assert.equal(res.status, 200);
  return (await res.json()).job_types;
}

const textKey = async () => (await upload(Buffer.from('registry test input\n'), { filename: 'r.txt' }))
  .body.object_key;

test('GET /api/job-types lists the enabled types with the settings applied', async () => {
  const types = await jobTypes();
  assert.deepEqual(types.map((t) => t.name).sort(), [...ENABLED].sort());
  const byName = Object.fromEntries(types.map((t) => [t.name, t]));
  assert.equal(byName.noop.pool, 'quick');
  assert.equal(byName.noop.queue, 'jobs.work.quick');
  assert.equal(byName.noop.params, null);
  assert.equal(byName.noop.content, null, 'noop takes any content');
  if (byName['test.fault']) {
    // scripts/test: RAP_JOB_CONTENT_TYPES=test.fault=text/plain, RAP_JOB_MAX_ATTEMPTS=test.fault=4.
    assert.deepEqual(byName['test.fault'].content, ['text/plain']);
    assert.equal(byName['test.fault'].max_attempts, 4);
    assert.deepEqual(byName['test.fault'].params.properties.mode.enum.slice(0, 3),
      ['succeed', 'transient', 'permanent']);
  }
  const one = await fetch(`${GATEWAY}/api/job-types/noop`, { headers: auth() });
  assert.deepEqual(await one.json(), byName.noop);
  const missing = await fetch(`${GATEWAY}/api/job-types/image.resize`, { headers: auth() });
  assertError({ status: missing.status, body: await missing.json() }, 404, 'not_found');
  const noKey = await fetch(`${GATEWAY}/api/job-types`);
  assertError({ status: noKey.status, body: await noKey.json() }, 401, 'unauthorized');
});

test('params that do not fit the type\'s schema are 422 invalid_params naming the field', async () => {
  const key = await textKey();
  const noParams = await createJob({ object_key: key, type: 'file.inspect', params: { note: 'x' } });
  assertError(noParams, 422, 'invalid_params');
  assert.equal(noParams.body.detail, 'params.note: is not a known field (none are)');
  if (!ENABLED.includes('test.fault')) return;
  const mode = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'explode' } });
  assertError(mode, 422, 'invalid_params');
  assert.match(mode.body.detail, /^params\.mode: must be one of succeed, transient, /);
  const range = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'sleep', seconds: -1 } });
  assert.equal(range.body.detail, 'params.seconds: must be at least 0');
  const ok = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'succeed' } });
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
});

test('in a batch, the bad params are named by their request and nothing is created', async () => {
  const key = await textKey();
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: [{ object_key: key, type: 'noop' },
      { object_key: key, type: 'noop', params: { extra: { deep: 1 } } }] }),
  });
  const body = await res.json();
  assertError({ status: res.status, body }, 422, 'invalid_params');
  assert.equal(body.detail, 'jobs[1].params.extra: is not a known field (none are)');
  const list = await (await fetch(`${GATEWAY}/api/jobs?limit=5`, { headers: auth() })).json();
  assert.ok(!list.jobs.some((j) => j.object_key === key), 'no job of the refused batch');
});

test('a job\'s attempts default to its type\'s in the registry', async () => {
  const key = await textKey();
  const types = Object.fromEntries((await jobTypes()).map((t) => [t.name, t]));
  const noop = await createJob({ object_key: key, type: 'noop' });
  assert.equal(noop.status, 202);
  assert.equal((await getJob(noop.body.job_id)).body.max_attempts, types.noop.max_attempts);
  const own = await createJob({ object_key: key, type: 'noop', max_attempts: 2 });
  assert.equal((await getJob(own.body.job_id)).body.max_attempts, 2, 'a job may set its own');
});

test('each pool has a work queue of its own, bound by its types and consumed by every worker', async () => {
  const types = await jobTypes();
  const queues = await mgmt('queues/%2F?columns=name,arguments,consumers');
  assert.ok(!queues.some((q) => q.name === 'jobs.work'), 'the one jobs.work is gone');
  const bindings = await mgmt('exchanges/%2F/jobs/bindings/source');
  for (const pool of ['quick', 'light', 'data', 'image', 'pdf', 'video', 'virus']) {
    const q = queues.find((x) => x.name === `jobs.work.${pool}`);
    assert.ok(q, `no queue jobs.work.${pool}`);
    assert.equal(q.arguments['x-queue-type'], 'quorum');
    assert.equal(q.arguments['x-dead-letter-exchange'], 'jobs.dlx');
    assert.equal(q.arguments['x-delivery-limit'], 5);
  }
  for (const t of types) {
    const b = bindings.filter((x) => x.routing_key === t.name);
    assert.deepEqual(b.map((x) => x.destination), [t.queue], `binding of ${t.name}`);
  }
  await waitFor('every worker consumes every pool\'s queue', async () => {
    const now = await mgmt('queues/%2F?columns=name,consumers');
    return ['quick', 'light', 'data', 'image', 'pdf', 'video', 'virus'].every((p) => now.find((x) => x.name === `jobs.work.${p}`)?.consumers >= WORKERS);
  }, 20000, 250);
});

// Runs a service binary with env on top of the test stack's; resolves with
// its exit code and stderr, killing it if it has not stopped in time.
function runService(bin, env, ms = 15000) {
  // The stack's own servers, never a default port: should the check fail
  // to stop it, the service talks to nothing of anyone else's.
  const stack = {
    RAP_PG_URL: `postgresql://postgres@127.0.0.1:${process.env.RAP_PG_PORT || 5439}/rap`,
    RAP_AMQP_URL: `amqp://rap:rap@127.0.0.1:${process.env.RAP_AMQP_PORT || 5679}/`,
    RAP_S3_ENDPOINT: `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}`,
  };
  return new Promise((resolve) => {
    const child = spawn(path.join(BUILD, bin), [], {
      env: { ...process.env, ...stack, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr, child }); });
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('a setting that names what the registry has not stops the service at start, naming it', async () => {
  const port = String(await freePort());
  const cases = [
    ['rap-job-api', { RAP_JOB_PORT: port, RAP_JOB_TYPES: 'file.inspect,image.resize' },
      /configuration error: RAP_JOB_TYPES: "image\.resize": not a job type \(known: noop, file\.inspect/],
    ['rap-job-api', { RAP_JOB_PORT: port, RAP_JOB_LIMITS: 'csv.validate=wall:3600;memory:lots' },
      /RAP_JOB_LIMITS: "csv\.validate=wall:3600;memory:lots": memory takes/],
    ['rap-upload-api', { RAP_UPLOAD_PORT: port, RAP_JOB_CONTENT_TYPES: 'pdf.render=application/pdf' },
      /RAP_JOB_CONTENT_TYPES: "pdf\.render=application\/pdf": 'pdf\.render' is not a job type/],
    ['rap-worker', { RAP_WORKER_PORT: port, RAP_WORKER_POOLS: 'light,heavy' },
      /RAP_WORKER_POOLS: "heavy" is not a pool of the registry \(pools: quick, light, data, image, pdf, video, virus\)/],
  ];
  for (const [bin, env, message] of cases) {
    const r = await runService(bin, env);
    assert.equal(r.code, 1, `${bin} ${JSON.stringify(env)} should exit 1 at start: ${r.signal} ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('a worker serves only the pools of RAP_WORKER_POOLS', async () => {
  const id = `pools-test-${process.pid}-${Date.now()}`;
  const amqp = `amqp://rap:rap@127.0.0.1:${process.env.RAP_AMQP_PORT || 5679}/`;
  const child = spawn(path.join(BUILD, 'rap-worker'), [], {
    env: {
      ...process.env,
      RAP_WORKER_POOLS: 'data',
      RAP_WORKER_ID: id,
      RAP_WORKER_PORT: '0',
      RAP_AMQP_URL: amqp,
      RAP_PG_URL: `postgresql://postgres@127.0.0.1:${process.env.RAP_PG_PORT || 5439}/rap`,
      RAP_S3_ENDPOINT: `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}`,
      RAP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const queues = await waitFor('the worker consumes', async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}`);
      const conns = (await mgmt('connections?columns=name,user_provided_name'))
        .filter((c) => c.user_provided_name?.startsWith(`${id} `)).map((c) => c.name);
      if (conns.length === 0) return false;
      const mine = (await mgmt('consumers/%2F'))
        .filter((c) => conns.includes(c.channel_details?.connection_name)).map((c) => c.queue.name);
      return mine.length > 0 && mine;
    }, 30000, 250);
    assert.deepEqual(queues, ['jobs.work.data']);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

// A type that moved to another pool's queue (noop went from light to quick)
// stayed bound to the old queue on a broker that had the old definitions:
// RabbitMQ only adds what it loads and what is declared, so every noop job
// went to two queues.  A service declaring the topology now unbinds the
// definitions' keys from the definitions' queues they are not bound to,
// and leaves queues the definitions do not name alone.
test('a binding the definitions no longer have is removed when a service starts', async () => {
  const send = async (method, p, body) => {
    const res = await fetch(`${MGMT}/api/${p}`, {
      method, headers: { ...MGMT_AUTH, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    assert.ok(res.status >= 200 && res.status < 300, `${method} ${p}: ${res.status}`);
  };
  const own = `registry-test-${process.pid}`;
  const keys = async (queue) => (await mgmt('exchanges/%2F/jobs/bindings/source'))
    .filter((b) => b.destination === queue).map((b) => b.routing_key).sort();
  await send('PUT', `queues/%2F/${own}`, { durable: false, auto_delete: false });
  await send('POST', `bindings/%2F/e/jobs/q/${own}`, { routing_key: 'test.fault' });
  await send('POST', 'bindings/%2F/e/jobs/q/jobs.work.data', { routing_key: 'test.fault' });
  assert.ok((await keys('jobs.work.data')).includes('test.fault'), 'the stray binding was made');
  const child = spawn(path.join(BUILD, 'rap-worker'), [], {
    env: {
      ...process.env,
      RAP_WORKER_POOLS: 'data',
      RAP_WORKER_ID: own,
      RAP_WORKER_PORT: '0',
      RAP_AMQP_URL: `amqp://rap:rap@127.0.0.1:${process.env.RAP_AMQP_PORT || 5679}/`,
      RAP_PG_URL: `postgresql://postgres@127.0.0.1:${process.env.RAP_PG_PORT || 5439}/rap`,
      RAP_S3_ENDPOINT: `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}`,
      RAP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor('the stray binding is gone', async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}`);
      return !(await keys('jobs.work.data')).includes('test.fault');
    }, 30000, 200);
    assert.deepEqual(await keys('jobs.work.data'), ['csv.validate', 'xls.validate', 'xlsx.validate']);
    assert.deepEqual(await keys(own), ['test.fault'], 'a queue the definitions do not name is left alone');
  } finally {
    child.kill('SIGTERM');
    await exited;
    await send('DELETE', `queues/%2F/${own}`);
  }
});

// Issue 12: with their defaults, workers serve each pool on a slot of its
// own (a connection each): quick with a prefetch of 64, light with 8, data
// with 1; issue 14: image with 4, pdf with 2, video with 1, virus with 2.
test('by default each worker serves each pool on a slot of its own, with the pool\'s prefetch', async () => {
  const consumers = await waitFor('every slot consumes', async () => {
    // The stack's workers (worker-N), by their connections' given names.
    const slotOf = new Map((await mgmt('connections?columns=name,user_provided_name'))
      .filter((c) => /^worker-\d+ (quick|light|data|image|pdf|video|virus)$/.test(c.user_provided_name ?? ''))
      .map((c) => [c.name, c.user_provided_name]));
    const list = (await mgmt('consumers/%2F'))
      .filter((c) => slotOf.has(c.channel_details?.connection_name))
      .map((c) => ({ ...c, slot: slotOf.get(c.channel_details.connection_name) }));
    return list.length === WORKERS * 7 && list;
  }, 30000, 250);
  const byQueue = {};
  for (const c of consumers) (byQueue[c.queue.name] ??= []).push(c);
  assert.equal(byQueue['jobs.work.quick'].length, WORKERS);
  assert.equal(byQueue['jobs.work.light'].length, WORKERS);
  assert.equal(byQueue['jobs.work.data'].length, WORKERS);
  assert.equal(byQueue['jobs.work.image'].length, WORKERS);
  assert.equal(byQueue['jobs.work.pdf'].length, WORKERS);
  assert.equal(byQueue['jobs.work.video'].length, WORKERS);
  assert.equal(byQueue['jobs.work.virus'].length, WORKERS);
  for (const c of byQueue['jobs.work.quick']) {
    assert.equal(c.prefetch_count, 64);
    assert.match(c.slot, / quick$/);
  }
  for (const c of byQueue['jobs.work.light']) {
    assert.equal(c.prefetch_count, 8);
    assert.match(c.slot, / light$/);
  }
  for (const c of byQueue['jobs.work.data']) {
    assert.equal(c.prefetch_count, 1);
    assert.match(c.slot, / data$/);
  }
  for (const c of byQueue['jobs.work.image']) {
    assert.equal(c.prefetch_count, 4);
    assert.match(c.slot, / image$/);
  }
  for (const c of byQueue['jobs.work.pdf']) {
    assert.equal(c.prefetch_count, 2);
    assert.match(c.slot, / pdf$/);
  }
  for (const c of byQueue['jobs.work.virus']) {
    assert.equal(c.prefetch_count, 2);
    assert.match(c.slot, / virus$/);
  }
  for (const c of byQueue['jobs.work.video']) {
    assert.equal(c.prefetch_count, 1);
    assert.match(c.slot, / video$/);
  }
  // Each slot on a connection of its own.
  assert.equal(new Set(consumers.map((c) => c.channel_details.connection_name)).size, WORKERS * 7);
});

test('a long data job on every worker does not hold up quick jobs', async () => {
  // A pattern that backtracks to its match limit on every value: about 10
  // ms a row, so each of these runs for tens of seconds.
  const csv = Buffer.from(`v\n${`${'a'.repeat(40)}\n`.repeat(5000)}`);
  const long = [];
  for (let i = 0; i < WORKERS; i++) {
    const up = await upload(csv, { filename: `long-${i}.csv` });
    const res = await createJob({ object_key: up.body.object_key, type: 'csv.validate',
      params: { columns: [{ name: 'v', pattern: '(a+)+[bc]' }] } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    long.push(res.body.job_id);
  }
  try {
    // Every worker runs one (a data slot takes one at a time).
    let seen = [];
    await waitFor('a long job running on every worker', async () => {
      const jobs = await Promise.all(long.map(async (id) => (await getJob(id)).body));
      seen = jobs.map((j) => `${j.status} ${j.stage} ${j.rows_done} ${j.error ?? ''}`);
      return jobs.every((j) => j.status === 'PROCESSING');
    }, 60000, 100).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(seen)}`); });
    const up = await upload(Buffer.from('quick'), { filename: 'q.txt' });
    const res = await createJob({ object_key: up.body.object_key, type: 'noop' });
    assert.equal(res.status, 202);
    const quick = await waitFor('the quick job done', async () => {
      const j = (await getJob(res.body.job_id)).body;
      return ['COMPLETED', 'FAILED', 'DEAD'].includes(j.status) && j;
    }, 15000, 50);
    assert.equal(quick.status, 'COMPLETED', JSON.stringify(quick));
    for (const id of long) {
      const j = (await getJob(id)).body;
      assert.equal(j.status, 'PROCESSING', `long job ${id} ended before the quick one: ${j.status}`);
    }
  } finally {
    for (const id of long) {
      await fetch(`${GATEWAY}/api/jobs/${id}/cancel`, { method: 'POST', headers: auth() });
    }
  }
  for (const id of long) {
    await waitFor(`long job ${id} cancelled`, async () => (await getJob(id)).body.status === 'CANCELLED',
      10000, 100);
  }
});
