// `rap-job-api --migrate`, the one-shot step the Helm chart runs once per
// release (infra/helm/rap/templates/migrations.yaml): on an empty database
// it applies every migration and exits 0, a second run changes nothing and
// exits 0, and a database it cannot reach ends it with 1 on SIGTERM (as
// Kubernetes ends a Job past its deadline) instead of a success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const BUILD = process.env.RAP_BUILD_DIR || path.resolve('build');
const PG_PORT = process.env.RAP_PG_PORT || '5439';
const DB = `rap_migrate_${process.pid}`;
const psql = (db, sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', PG_PORT, '-U', 'postgres',
  '-d', db, '-Atq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
const MIGRATIONS = fs.readdirSync(path.resolve('db/migrations')).filter((f) => /^\d{4}_.*\.sql$/.test(f));

// Runs rap-job-api --migrate with only what the chart's Job gives it; calls
// during(child, stderrSoFar) on each chunk of stderr; kills it after ms.
function migrate(env, { during = () => {}, ms = 30000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(path.join(BUILD, 'rap-job-api'), ['--migrate'], {
      env: { PATH: process.env.PATH, RAP_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; during(child, stderr); });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr }); });
  });
}

test('--migrate brings an empty database to the current schema, and a second run changes nothing', async (t) => {
  psql('postgres', `DROP DATABASE IF EXISTS ${DB}`);
  psql('postgres', `CREATE DATABASE ${DB}`);
  t.after(() => psql('postgres', `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  const env = { RAP_PG_URL: `postgresql://postgres@127.0.0.1:${PG_PORT}/${DB}` };

  const first = await migrate(env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /the database schema is current/);
  const applied = psql(DB, 'SELECT count(*), max(version) FROM schema_migrations');
  assert.equal(applied, `${MIGRATIONS.length}|${Number(MIGRATIONS.at(-1).slice(0, 4))}`);
  assert.equal(psql(DB, "SELECT to_regclass('jobs') IS NOT NULL AND to_regclass('outbox') IS NOT NULL"), 't');

  const stamp = psql(DB, 'SELECT max(applied_at) FROM schema_migrations');
  const second = await migrate(env);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(psql(DB, 'SELECT count(*) FROM schema_migrations'), String(MIGRATIONS.length));
  assert.equal(psql(DB, 'SELECT max(applied_at) FROM schema_migrations'), stamp, 'nothing applied again');
});

test('--migrate keeps trying a database that is not there yet, and exits 1 when told to stop', async () => {
  // A loopback port nothing listens on (taken, then freed).
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  let tries = 0;
  const r = await migrate({ RAP_PG_URL: `postgresql://postgres@127.0.0.1:${port}/rap` }, {
    during: (child, stderr) => {
      tries = (stderr.match(/database not ready/g) || []).length;
      if (tries >= 2) child.kill('SIGTERM');
    },
  });
  assert.ok(tries >= 2, `tried again before giving up: ${r.stderr}`);
  assert.equal(r.signal, null, 'stopped on its own after SIGTERM');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /migrations not applied/);
});
