// Copies s3rver and every npm package it needs at run time (dependencies,
// recursively, resolved the way Node resolves them) from the repository's
// node_modules, installed from package-lock.json, into a folder of its own
// for the rap-s3rver image: the other packages there (the test clients,
// playwright) stay out of it. Run by scripts/images.sh.
//
// Usage: node infra/images/s3rver-closure.cjs NODE_MODULES OUT
// OUT/node_modules/... then mirrors NODE_MODULES for those packages only;
// files are rewritten only when they differ, so the image's cache holds.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
  console.error('usage: s3rver-closure.cjs NODE_MODULES OUT');
  process.exit(2);
}

// The folder of package `name` as required from folder `from`: the
// nearest node_modules/name going up, as Node finds it.
function resolve(name, from) {
  for (let dir = from; dir.startsWith(modules); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === modules) break;
  }
  const top = path.join(modules, name);
  if (fs.existsSync(path.join(top, 'package.json'))) return top;
  throw new Error(`${name} (needed by ${from}) is not in ${modules}: run scripts/install-deps.sh`);
}

const seen = new Set();
const queue = [path.join(modules, 's3rver')];
while (queue.length) {
  const dir = queue.pop();
  if (seen.has(dir)) continue;
  seen.add(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies || {})) queue.push(resolve(dep, dir));
}

// Copies a file tree, skipping nested node_modules (each package needed is
// in `seen` and copied on its own) and files that are already the same.
function copy(src, dst) {
  const st = fs.lstatSync(src);
  if (st.isDirectory()) {
    fs.mkdirSync(dst, { recursive: true });
    for (const entry of fs.readdirSync(src)) {
      if (entry === 'node_modules') continue;
      copy(path.join(src, entry), path.join(dst, entry));
    }
  } else if (st.isSymbolicLink()) {
    const target = fs.readlinkSync(src);
    if (!fs.existsSync(dst) || fs.readlinkSync(dst) !== target) {
      fs.rmSync(dst, { force: true });
      fs.symlinkSync(target, dst);
    }
  } else if (!fs.existsSync(dst) || !fs.readFileSync(dst).equals(fs.readFileSync(src))) {
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, st.mode & 0o777);
  }
}

const dest = path.join(out, 'node_modules');
const wanted = new Set([...seen].map((dir) => path.relative(modules, dir)));
for (const rel of wanted) copy(path.join(modules, rel), path.join(dest, rel));

// Packages of an earlier run that are no longer needed go.
function prune(dir, rel) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) {
    const r = rel ? path.join(rel, entry) : entry;
    const isPkg = fs.existsSync(path.join(dir, entry, 'package.json'));
    if (isPkg && !wanted.has(r)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    else if (!isPkg && fs.statSync(path.join(dir, entry)).isDirectory()) prune(path.join(dir, entry), r);
    else if (isPkg && fs.existsSync(path.join(dir, entry, 'node_modules'))) {
      prune(path.join(dir, entry, 'node_modules'), path.join(r, 'node_modules'));
    }
  }
}
prune(dest, '');
console.log(`s3rver: ${wanted.size} packages in ${dest}`);
