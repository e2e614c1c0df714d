// Documents that are generated from code stay in step with it:
// docs/configuration.md holds the configuration table each service prints
// (`rap-<service> --config-md`: the shared settings it reads, from
// lib/service/settings.c, and its own, from services/<service>/settings.c),
// the source folder written as <repo>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = process.env.RAP_BUILD_DIR || path.join(ROOT, 'build');

// Every file below dir (relative to the repository), skipping what git
// ignores here: builds, node_modules, state.
function listFiles(dir) {
  const out = [];
  const walk = (rel) => {
    for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const p = rel === '.' ? e.name : `${rel}/${e.name}`;
      if (/^(build[^/]*|node_modules|\.state|\.git)$/.test(e.name)) continue;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

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

// Docs never cite files that do not exist: every path of the tree that the
// docs, the READMEs and proto/ name (lib/..., services/..., tests/..., with
// * and {a,b} read as wildcards) is there.
test('every file the docs and proto/ name exists', () => {
  const roots = 'lib|services|cli|scripts|tests|bench|tools|infra|observability|proto|db|web|cmake|docs';
  // Not a system path's tail: /var/lib/clamav names no lib/ of the tree.
  const cited = new RegExp(`(?<![\\w-]/)\\b((?:${roots})/[A-Za-z0-9_./*{}-]+)`, 'g');
  const sources = [
    ...listFiles('docs').filter((f) => f.endsWith('.md')),
    'README.md', 'CONTRIBUTING.md', 'proto/README.md', 'proto/openapi.yaml', 'proto/asyncapi.yaml',
    ...listFiles('proto/schemas').filter((f) => f.endsWith('.json')),
  ];
  const tree = [...listFiles('.')];
  const missing = [];
  for (const src of sources) {
    readFileSync(path.join(ROOT, src), 'utf8').split('\n').forEach((line, i) => {
      for (const [, raw] of line.matchAll(cited)) {
        const p = raw.replace(/[.,:;)/]+$/, '');
        const re = new RegExp(`^${p.replace(/[.+?^$()|[\]\\]/g, '\\$&')
          .replace(/\{[^}]*\}|\*/g, '[^/]*')}(/.*)?$`);
        if (!tree.some((f) => re.test(f))) missing.push(`${src}:${i + 1}: ${p}`);
      }
    });
  }
  assert.deepEqual(missing, [], 'the docs name files that do not exist');
});
