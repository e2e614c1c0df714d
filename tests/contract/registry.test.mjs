// What is generated from the job-type registry (lib/domain/jobtype.c) stays
// in step with it: infra/rabbitmq/definitions.json, the work-queue channels
// of proto/asyncapi.yaml (between its "generated" markers) and
// docs/job-types.md are exactly what `build/rap-registry` prints.  When one
// fails, rebuild and run scripts/gen-registry, then review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = process.env.RAP_BUILD_DIR || path.join(ROOT, 'build');
const REGEN = 'regenerate it: cmake --build build && scripts/gen-registry';

function printed(what) {
  return execFileSync(path.join(BUILD, 'rap-registry'), [what], { encoding: 'utf8' });
}

function read(rel) {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

test('infra/rabbitmq/definitions.json is what the registry prints', () => {
  assert.ok(read('infra/rabbitmq/definitions.json') === printed('definitions'),
    `infra/rabbitmq/definitions.json differs from \`build/rap-registry definitions\`: ${REGEN}`);
});

test('the work queues of proto/asyncapi.yaml are what the registry prints', () => {
  const block = printed('asyncapi-queues');
  const [begin] = block.split('\n');
  const end = block.trimEnd().split('\n').at(-1);
  const doc = read('proto/asyncapi.yaml');
  const from = doc.indexOf(`${begin.split(' (')[0]}`);
  const to = doc.indexOf(end);
  assert.ok(from >= 0 && to > from, `proto/asyncapi.yaml has lost its generated markers: ${REGEN}`);
  assert.ok(doc.slice(from, to + end.length + 1) === block,
    `the generated block of proto/asyncapi.yaml differs from \`build/rap-registry asyncapi-queues\`: ${REGEN}`);
  // And it is the only place that describes a work queue.
  const outside = doc.slice(0, from) + doc.slice(to + end.length + 1);
  assert.doesNotMatch(outside, /^ {2}queue\/jobs\.work/m, 'a work-queue channel outside the generated block');
});

test('docs/job-types.md is what the registry prints', () => {
  assert.ok(read('docs/job-types.md') === printed('docs'),
    `docs/job-types.md differs from \`build/rap-registry docs\`: ${REGEN}`);
});

test('rap-registry refuses what it does not know', () => {
  assert.throws(() => execFileSync(path.join(BUILD, 'rap-registry'), ['nonsense'], { stdio: 'pipe' }),
    (e) => e.status === 2 && /usage: rap-registry/.test(String(e.stderr)));
});
