// The container images of scripts/images.sh (infra/images/), checked as
// they run: each platform image runs as uid 10001, every binary in it
// finds all its libraries (ldd), and on a private podman network with the
// infrastructure images (rap-postgres, rap-rabbitmq, rap-s3rver) every
// container turns healthy by its own HEALTHCHECK, the services answer
// /readyz, and SIGTERM (podman stop) ends each service with exit code 0
// within a bounded wait, through the image's init (catatonit).
//
// Nothing is published on the host: the containers talk on a network of
// their own, and the test reaches them with `podman exec` and `podman
// healthcheck run`. Everything it starts is removed at the end.
//
// Run: scripts/images.sh && node --no-warnings --test tests/deploy/images.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const DIR = process.env.RAP_IMAGES_DIR || '/var/cache/rap-images';
const TAG = process.env.RAP_IMAGE_TAG || 'dev';
const ENV = {
  ...process.env,
  CONTAINERS_STORAGE_CONF: path.join(DIR, 'storage.conf'),
  CONTAINERS_CONF: path.join(DIR, 'containers.conf'),
  CONTAINERS_REGISTRIES_CONF: path.join(DIR, 'registries.conf'),
};
const PREFIX = `rap-imgtest-${process.pid}`;
const NET = `${PREFIX}-net`;
const STOP_LIMIT_S = 20; // the longest a service may take to stop on SIGTERM
const HEALTHY_LIMIT_MS = 120_000;

// The platform's images: what runs in each, the port of its /healthz and
// /readyz (null: none), the binaries ldd must resolve.
const SERVICES = {
  'upload-api': { port: 8180, bins: ['/usr/local/bin/rap-upload-api'] },
  'job-api': { port: 8181, bins: ['/usr/local/bin/rap-job-api'] },
  worker: { port: 8104, bins: ['/usr/local/bin/rap-worker', '/usr/local/bin/rap-processor'] },
  notifier: {
    port: 8190,
    // libwebsockets loads its libev event loop as a plugin.
    bins: ['/usr/local/bin/rap-notifier', '/usr/lib/x86_64-linux-gnu/libwebsockets-evlib_ev.so'],
  },
  gateway: { port: null, bins: ['/usr/sbin/nginx'] },
};
const INFRA = ['postgres', 'rabbitmq', 's3rver'];
const image = (name) => `localhost/rap-${name}:${TAG}`;
const container = (name) => `${PREFIX}-${name}`;

function podman(args, opts = {}) {
  return spawnSync('podman', args, { env: ENV, encoding: 'utf8', timeout: 60_000, ...opts });
}
function podmanOk(args, opts) {
  const r = podman(args, opts);
  assert.equal(r.status, 0, `podman ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

// Polls fn (true when done) every 250 ms for at most limit ms.
async function until(limit, fn, what) {
  const deadline = Date.now() + limit;
  for (;;) {
    if (fn()) return;
    if (Date.now() > deadline) throw new Error(`not within ${limit / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const started = [];
after(() => {
  if (started.length) podman(['rm', '--force', '--time', '0', ...started]);
  podman(['network', 'rm', '--force', NET]);
  const left = podman(['ps', '--all', '--quiet', '--filter', `name=${PREFIX}`]).stdout.trim();
  assert.equal(left, '', `containers left behind: ${left}`);
});

test('the images exist (scripts/images.sh builds them)', () => {
  for (const name of [...Object.keys(SERVICES), ...INFRA]) {
    const r = podman(['image', 'exists', image(name)]);
    assert.equal(r.status, 0, `${image(name)} is missing: run scripts/images.sh`);
  }
});

test('each platform image runs as uid 10001, not root', () => {
  for (const name of Object.keys(SERVICES)) {
    const user = podmanOk(['image', 'inspect', '--format', '{{.Config.User}}', image(name)]).trim();
    assert.equal(user, '10001:10001', `${name}: USER`);
    const id = podmanOk(['run', '--rm', '--network', 'none', '--entrypoint', 'id', image(name)]);
    assert.match(id, /^uid=10001\(rap\) gid=10001\(rap\)/, `${name}: ${id}`);
  }
});

test('every binary of each image finds all its libraries', () => {
  for (const [name, { bins }] of Object.entries(SERVICES)) {
    for (const bin of bins) {
      const r = podman(['run', '--rm', '--network', 'none', '--entrypoint', 'ldd', image(name), bin]);
      assert.equal(r.status, 0, `${name}: ldd ${bin}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /not found/, `${name}: ${bin}:\n${r.stdout}`);
    }
  }
});

test('on a network of their own: healthy, ready, and SIGTERM stops each service with exit 0', async () => {
  podmanOk(['network', 'create', NET]);
  const run = (name, alias, env, img = image(name)) => {
    const args = ['run', '--detach', '--name', container(name), '--network', NET,
      '--network-alias', alias];
    for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
    started.push(container(name));
    podmanOk([...args, img]);
  };
  const svcEnv = {
    RAP_PG_URL: 'postgresql://rap:rap@postgres:5432/rap',
    RAP_AMQP_URL: 'amqp://rap:rap@rabbitmq:5672/',
    RAP_S3_ENDPOINT: 'http://s3:9000',
    RAP_WORKER_ID: 'worker-imgtest',
  };
  run('postgres', 'postgres', { POSTGRES_USER: 'rap', POSTGRES_PASSWORD: 'rap', POSTGRES_DB: 'rap' });
  run('rabbitmq', 'rabbitmq', {});
  run('s3rver', 's3', {});
  for (const name of ['upload-api', 'job-api', 'worker', 'notifier']) run(name, name, svcEnv);
  run('gateway', 'gateway', {});

  // Each container's own HEALTHCHECK (podman runs none by itself without
  // systemd here, so the test runs it).
  const all = [...INFRA, ...Object.keys(SERVICES)];
  const healthy = new Set();
  await until(HEALTHY_LIMIT_MS, () => {
    for (const name of all) {
      if (healthy.has(name)) continue;
      if (podman(['healthcheck', 'run', container(name)]).status === 0) healthy.add(name);
    }
    return healthy.size === all.length;
  }, `healthy: ${all.filter((n) => !healthy.has(n)).join(', ')}`).catch((e) => {
    for (const name of all.filter((n) => !healthy.has(n))) {
      console.error(`---- ${name}\n${podman(['logs', '--tail', '30', container(name)]).stderr}`);
    }
    throw e;
  });

  // Ready: PostgreSQL, RabbitMQ and S3 reached from inside the network.
  const ready = new Set();
  const services = Object.keys(SERVICES).filter((n) => SERVICES[n].port);
  await until(60_000, () => {
    for (const name of services) {
      if (ready.has(name)) continue;
      const r = podman(['exec', container(name), 'curl', '-fsS', '-m', '2', '-o', '/dev/null',
        `http://127.0.0.1:${SERVICES[name].port}/readyz`]);
      if (r.status === 0) ready.add(name);
    }
    return ready.size === services.length;
  }, `ready: ${services.filter((n) => !ready.has(n)).join(', ')}`);

  // The gateway serves the web UI as its non-root user.
  const index = podmanOk(['exec', container('gateway'), 'curl', '-fsS', 'http://127.0.0.1:8080/']);
  assert.match(index, /<script type="module" src="app.js"><\/script>/);
  // ... with its modules, the pinned tus-js-client build and the problem
  // types' page (/problems/CODE resolves to it).
  for (const file of ['lib.js', 'jobs.js', 'upload.js', 'vendor/tus.min.js']) {
    podmanOk(['exec', container('gateway'), 'curl', '-fsS', '-o', '/dev/null', `http://127.0.0.1:8080/${file}`]);
  }
  const problem = podmanOk(['exec', container('gateway'), 'curl', '-fsS', 'http://127.0.0.1:8080/problems/not_found']);
  assert.match(problem, /id="not_found"/);

  // SIGTERM, as `podman stop` and Kubernetes send it, through catatonit.
  for (const name of Object.keys(SERVICES)) {
    const t0 = Date.now();
    podmanOk(['stop', '--time', String(STOP_LIMIT_S + 5), container(name)], { timeout: 60_000 });
    const took = (Date.now() - t0) / 1000;
    const code = podmanOk(['inspect', '--format', '{{.State.ExitCode}}', container(name)]).trim();
    assert.equal(code, '0', `${name}: exit code ${code} on SIGTERM\n${podman(['logs', '--tail', '20', container(name)]).stderr}`);
    assert.ok(took < STOP_LIMIT_S, `${name}: took ${took} s to stop on SIGTERM`);
  }
});
