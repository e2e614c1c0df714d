// Errors are RFC 9457 problem details everywhere (issue 16, point 6): the
// codes and titles of lib/core/problem.c are the ones docs/errors.md and the
// page the gateway serves at /problems/CODE (web/problems.html) describe;
// every error body the gateway writes itself (infra/nginx/nginx.conf.template)
// is a problem of that shape; and no source writes the old envelope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (...p) => readFileSync(path.join(ROOT, ...p), 'utf8');

// code -> title, from the table of lib/core/problem.c.
const TITLES = new Map([...read('lib', 'core', 'problem.c').matchAll(/^\s*\{ "([a-z0-9_]+)", "([^"]+)" \},$/gm)]
  .map((m) => [m[1], m[2]]));

test('lib/core/problem.c, docs/errors.md and web/problems.html list the same codes and titles', () => {
  assert.ok(TITLES.size >= 30, `${TITLES.size} codes`);
  const doc = new Map([...read('docs', 'errors.md').matchAll(/^\| `([a-z0-9_]+)` \| ([0-9, ]+) \| ([^|]+) \|/gm)]
    .map((m) => [m[1], m[3].trim()]));
  assert.deepEqual([...doc.entries()].sort(), [...TITLES.entries()].sort(), 'docs/errors.md');
  const page = read('web', 'problems.html');
  const rows = new Map([...page.matchAll(/<tr id="([a-z0-9_]+)"><td><code>\1<\/code><\/td><td>[0-9]+<\/td><td>([^<]+)<\/td>/g)]
    .map((m) => [m[1], m[2].replace(/&amp;/g, '&')]));
  assert.deepEqual([...rows.entries()].sort(), [...TITLES.entries()].sort(), 'web/problems.html');
  assert.match(read('README.md'), /\(docs\/errors\.md\)/, 'README links docs/errors.md');
});

test("every error the gateway writes itself is a problem of a known code, as problem+json", () => {
  const conf = read('infra', 'nginx', 'nginx.conf.template');
  // Each `return NNN '{...}\n';` and the location it is in.
  const returns = [...conf.matchAll(/return ([45]\d\d) '(.*)\\n';/g)];
  assert.ok(returns.length >= 14, `${returns.length} error bodies`);
  for (const m of returns) {
    const [, status, text] = m;
    const block = conf.slice(conf.lastIndexOf('location ', m.index), m.index);
    assert.match(block, /default_type application\/problem\+json;/, text);
    const body = JSON.parse(text.replace('$rap_request_id', 'r'));
    assert.deepEqual(Object.keys(body), ['type', 'title', 'status', 'detail', 'code', 'request_id'], text);
    assert.equal(body.status, Number(status), text);
    assert.equal(body.type, `/problems/${body.code}`, text);
    assert.equal(body.title, TITLES.get(body.code), `${body.code}: the title of lib/core/problem.c`);
    assert.ok(body.detail.length > 0, text);
    assert.equal(body.request_id, 'r');
  }
  assert.ok(/location ~ "\^\/problems\/\[a-z0-9_\]\{1,64\}\$" \{[^}]*try_files \/problems\.html =404;/.test(conf),
    'the gateway serves /problems/CODE');
});

test('no source writes the old {"error":{...}} envelope', () => {
  const hits = [];
  const walk = (rel) => {
    for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.(c|h|template|conf)$/.test(e.name) && /\\?"error\\?":\s*\{/.test(read(p))) hits.push(p);
    }
  };
  for (const d of ['lib', 'services', 'infra']) walk(d);
  assert.deepEqual(hits, []);
});
