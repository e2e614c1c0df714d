// Documents that are generated from code stay in step with it:
// docs/configuration.md is the configuration table of lib/settings.c as the
// services print it (`rap-job-api --config-md`), the source folder written
// as <repo>.
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
