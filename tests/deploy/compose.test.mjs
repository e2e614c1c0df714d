// The compose stack (infra/compose/compose.yaml) run with podman-compose
// from the images of scripts/images.sh, under a project name of its own:
// up until every service is ready; the happy path through the gateway
// (an upload, a job, COMPLETED pushed over the WebSocket); the workers
// scaled from one to three (deploy.replicas through RAP_COMPOSE_WORKERS:
// podman-compose 1.0.3 ignores --scale); the worker container that holds a
// running job killed (SIGKILL) with the job still COMPLETED by another; then
// down, and nothing of the project left (containers, pods, volumes, and the
// network, which podman-compose's down leaves).
//
// Only the gateway is published, on 127.0.0.1:RAP_COMPOSE_TEST_PORT (18390
// plus RAP_TEST_PORT_OFFSET, a port neither the development stack nor the
// test stack uses); every other
// check goes through `podman exec`. Every wait is bounded.
//
// Run: scripts/images.sh && node --no-warnings --test tests/deploy/compose.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = path.join(ROOT, 'infra/compose/compose.yaml');
const DIR = process.env.RAP_IMAGES_DIR || '/var/cache/rap-images';
// 18390, moved by RAP_TEST_PORT_OFFSET as scripts/test moves its stack's ports.
const PORT = Number(process.env.RAP_COMPOSE_TEST_PORT || 18390 + Number(process.env.RAP_TEST_PORT_OFFSET || 0));
const TAG = process.env.RAP_IMAGE_TAG || 'dev';
const PROJECT = `raptest${process.pid}`;
const API_KEY = 'compose-key';
const SERVICES = { 'upload-api': 8180, 'job-api': 8181, notifier: 8190, worker: 8104 };
const READY_LIMIT_MS = 180_000;

// podman-compose's environment: the images' private podman storage, and
// the compose file's settings (only RAP_COMPOSE_*: the test command's own
// RAP_* variables stay out of it).
const baseEnv = Object.fromEntries(Object.entries(process.env)
  .filter(([k]) => !k.startsWith('RAP_COMPOSE_')));
const ENV = {
  ...baseEnv,
  CONTAINERS_STORAGE_CONF: path.join(DIR, 'storage.conf'),
  CONTAINERS_CONF: path.join(DIR, 'containers.conf'),
  CONTAINERS_REGISTRIES_CONF: path.join(DIR, 'registries.conf'),
  RAP_COMPOSE_PORT: String(PORT),
  RAP_COMPOSE_API_KEYS: `${API_KEY}=compose`,
  RAP_COMPOSE_JOB_TYPES: 'file.inspect,noop,test.fault',
  RAP_COMPOSE_WORKERS: '1',
};

// The integration tests' helpers, pointed at this stack's gateway.
process.env.RAP_GATEWAY_URL = `http://127.0.0.1:${PORT}`;
process.env.RAP_TEST_API_KEY = API_KEY;
const { EventClient, createJob, getJob, upload, waitFor } = await import('../integration/helpers.mjs');

function run(cmd, args, { env = ENV, timeout = 300_000 } = {}) {
  return spawnSync(cmd, args, { env, cwd: ROOT, encoding: 'utf8', timeout });
}
const podman = (...args) => run('podman', args, { timeout: 60_000 });
function compose(args, env = {}) {
  const r = run('podman-compose', ['-p', PROJECT, '-f', FILE, ...args], { env: { ...ENV, ...env } });
  if (r.status !== 0) console.error(r.stdout, r.stderr);
  return r;
}
function lines(r) {
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}
const containersOf = (service) => lines(podman('ps', '--filter', `label=io.podman.compose.project=${PROJECT}`,
  '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}'));

function ready(name, port) {
  return podman('exec', name, 'curl', '-fsS', '-m', '2', '-o', '/dev/null',
    `http://127.0.0.1:${port}/readyz`).status === 0;
}

// True when container `name` resolves every dependency's name at once.
// aardvark-dns 1.4 (Debian 12) stops answering one container's queries for
// up to a minute after containers join the network (the host's queries to
// it are answered meanwhile); a service's /readyz, cached, can still say
// ready then, and its first S3 request wait out its timeout resolving.
function resolves(name) {
  return ['postgres', 'rabbitmq', 's3'].every((host) => podman('exec', '--env', 'RES_OPTIONS=timeout:1 attempts:1',
    name, 'getent', 'hosts', host).status === 0);
}

// Waits until every container of every service answers /readyz and
// resolves the names of PostgreSQL, RabbitMQ and S3.
async function allReady(limit) {
  let pending;
  await waitFor('every service ready', () => {
    pending = [];
    for (const [service, port] of Object.entries(SERVICES)) {
      const names = containersOf(service);
      if (!names.length) pending.push(service);
      for (const name of names) if (!ready(name, port) || !resolves(name)) pending.push(name);
    }
    return pending.length === 0;
  }, limit, 500).catch((e) => {
    for (const name of pending) console.error(`---- ${name}\n${podman('logs', '--tail', '20', name).stderr}`);
    throw new Error(`${e.message}: ${pending.join(', ')}`);
  });
}

let workers = 1;
let downDone = false;
function down() {
  const t0 = Date.now();
  const r = compose(['down', '--volumes', '--timeout', '30'], { RAP_COMPOSE_WORKERS: String(workers) });
  podman('network', 'rm', '--force', `${PROJECT}_default`);
  downDone = true;
  return { status: r.status, seconds: (Date.now() - t0) / 1000 };
}

before(() => {
  for (const name of ['upload-api', 'job-api', 'worker', 'notifier', 'gateway', 'postgres', 'rabbitmq', 's3rver']) {
    assert.equal(podman('image', 'exists', `localhost/rap-${name}:${TAG}`).status, 0,
      `localhost/rap-${name}:${TAG} is missing: run scripts/images.sh`);
  }
});

after(() => {
  if (!downDone) down();
  // Whatever a failed run left, by the project's label.
  const left = lines(podman('ps', '--all', '--quiet', '--filter', `label=io.podman.compose.project=${PROJECT}`));
  if (left.length) podman('rm', '--force', '--time', '0', ...left);
});

let ws;
after(() => ws?.close());

test('up: every service of the compose file ready', async () => {
  const t0 = Date.now();
  const r = compose(['up', '-d']);
  assert.equal(r.status, 0, 'podman-compose up failed');
  await allReady(READY_LIMIT_MS);
  const res = await fetch(`http://127.0.0.1:${PORT}/healthz`);
  assert.equal(res.status, 200);
  console.log(`# compose up to ready: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('happy path through the gateway: upload, job, COMPLETED pushed over the WebSocket', async () => {
  ws = new EventClient();
  await ws.open();
  const sub = await ws.subscribe();
  assert.equal(sub.type, 'subscribed', JSON.stringify(sub));
  const up = await upload(Buffer.from('id,name\n1,compose\n'), { filename: 'compose.csv' });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const job = await createJob({ object_key: up.body.object_key, type: 'file.inspect' });
  assert.equal(job.status, 202, JSON.stringify(job.body));
  await ws.waitFor('COMPLETED pushed', (m) => m.type === 'job.status' && m.job_id === job.body.job_id &&
    m.to === 'COMPLETED', 60_000);
  const done = await getJob(job.body.job_id);
  assert.equal(done.body.status, 'COMPLETED');
  assert.ok(done.body.result?.sha256, JSON.stringify(done.body));
});

test('workers scaled to three', async () => {
  workers = 3;
  const r = compose(['up', '-d', '--no-deps', 'worker'], { RAP_COMPOSE_WORKERS: '3' });
  assert.equal(r.status, 0);
  await waitFor('three workers running', () => containersOf('worker').length === 3, 60_000, 500);
  await allReady(90_000);
});

test('a worker killed mid-job: the job still COMPLETED, by another worker', async () => {
  const up = await upload(Buffer.from('compose recovery input'), { filename: 'input.txt' });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const created = await createJob({ object_key: up.body.object_key, type: 'test.fault',
    params: { mode: 'sleep', seconds: 5 } });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const id = created.body.job_id;

  // The worker holding it: its PROCESSING event says "claimed by HOST-PID",
  // and a container's host name is its short id.
  const job = await waitFor(`${id} PROCESSING`, async () => {
    const j = (await getJob(id)).body;
    return j.status === 'PROCESSING' && j;
  }, 60_000);
  const claim = job.events.filter((e) => e.to === 'PROCESSING').at(-1);
  const holderId = /claimed by (\S+)/.exec(claim.detail)?.[1];
  assert.ok(holderId, `no worker in ${JSON.stringify(claim)}`);
  const victim = containersOf('worker').find((name) => {
    const host = podman('inspect', '--format', '{{.Config.Hostname}}', name).stdout.trim();
    return host && holderId.startsWith(`${host}-`);
  });
  assert.ok(victim, `no worker container for ${holderId}`);
  assert.equal(podman('kill', victim).status, 0);

  await ws.waitFor('COMPLETED after the kill', (m) => m.type === 'job.status' && m.job_id === id &&
    m.to === 'COMPLETED', 120_000);
  const done = (await getJob(id)).body;
  assert.equal(done.status, 'COMPLETED');
  const last = done.events.filter((e) => e.to === 'PROCESSING').at(-1);
  assert.doesNotMatch(last.detail, new RegExp(`claimed by ${holderId}\\b`), 'completed by the killed worker');
});

test('down leaves nothing of the project', () => {
  const { status, seconds } = down();
  assert.equal(status, 0);
  console.log(`# compose down: ${seconds.toFixed(1)} s`);
  const label = `label=io.podman.compose.project=${PROJECT}`;
  assert.deepEqual(lines(podman('ps', '--all', '--format', '{{.Names}}', '--filter', label)), []);
  assert.deepEqual(lines(podman('pod', 'ps', '--format', '{{.Name}}', '--filter', label)), []);
  assert.deepEqual(lines(podman('volume', 'ls', '--format', '{{.Name}}', '--filter', label)), []);
  assert.deepEqual(lines(podman('network', 'ls', '--format', '{{.Name}}')).filter((n) => n.startsWith(PROJECT)), []);
});
