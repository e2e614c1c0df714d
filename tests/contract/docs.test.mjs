// Documents that are generated from code stay in step with it:
// docs/configuration.md holds the configuration table each service prints
// (`rap-<service> --config-md`: the shared settings it reads, from
// lib/service/settings.c, and its own, from services/<service>/settings.c),
// the source folder written as <repo>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = process.env.RAP_BUILD_DIR || path.join(ROOT, 'build');

test('docs/configuration.md holds the table every service prints', () => {
  const printed = execFileSync(path.join(BUILD, 'rap-job-api'), ['--config-md'], { encoding: 'utf8' })
    .split(ROOT).join('<repo>').trimEnd();
  const doc = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  assert.ok(doc.includes(printed), 'docs/configuration.md is stale: regenerate its table with '
    + "`build/rap-job-api --config-md | sed \"s#$PWD#<repo>#g\"`");
});

test('docs/configuration.md holds the table of each service under its name', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  for (const svc of ['upload-api', 'job-api', 'worker', 'notifier']) {
    const printed = execFileSync(path.join(BUILD, `rap-${svc}`), ['--config-md'], { encoding: 'utf8' })
      .split(ROOT).join('<repo>').trimEnd();
    assert.ok(doc.includes(`## ${svc}\n\n${printed}\n`), `docs/configuration.md is stale for ${svc}: `
      + `regenerate its table with \`build/rap-${svc} --config-md | sed "s#$PWD#<repo>#g"\``);
  }
});
