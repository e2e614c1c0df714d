// Helpers of the CLI tests (tests/integration/cli.test.mjs and
// tests/fault/cli.test.mjs): run the `rap` binary of the build under test
// and read its state. linkProxy (helpers.mjs), the TCP proxy that slows,
// cuts or stalls the link as a laptop's network does, is passed on.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY, auth } from './helpers.mjs';

export { linkProxy } from './helpers.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const RAP = path.resolve(REPO, process.env.RAP_BUILD_DIR || 'build', 'rap');
export const MiB = 1024 * 1024;

// A fresh folder for a test's files and state; removed by the caller.
export function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rap-cli-test-'));
}

// Starts `rap ...args`. The returned object has the child, live stdout and
// stderr text, and `done`: a promise of { code, signal, stdout, stderr }
// that rejects when the process is still running after timeoutMs (it is
// killed then), so no test waits forever.  cwd: the folder it runs in.
export function rap(args, { env = {}, timeoutMs = 120000, cwd = undefined } = {}) {
  const child = spawn(RAP, args, {
    cwd,
    env: { ...process.env, RAP_URL: '', RAP_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { run.stdout += d; });
  child.stderr.on('data', (d) => { run.stderr += d; });
  run.done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rap ${args.join(' ')} still running after ${timeoutMs} ms\n` +
        `stdout: ${run.stdout}\nstderr: ${run.stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: run.stdout, stderr: run.stderr });
    });
  });
  return run;
}

// The state files (*.state) in a state folder, parsed into objects.
export function stateFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.state')).map((f) => {
    const rec = { file: path.join(dir, f) };
    for (const line of fs.readFileSync(rec.file, 'utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0 && !line.startsWith('#')) rec[line.slice(0, sp)] = line.slice(sp + 1);
    }
    return rec;
  });
}

// HEAD of a tus upload, asked of the gateway directly (not through a proxy).
export async function tusOffset(uploadUrl) {
  const u = new URL(uploadUrl);
  const res = await fetch(`${GATEWAY}${u.pathname}`, {
    method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', ...auth() },
  });
  return res.status === 200 ? Number(res.headers.get('upload-offset')) : -res.status;
}

// "progress SENT/TOTAL ..." lines of a run's stderr, as numbers.
export function progressLines(stderr) {
  return [...stderr.matchAll(/^progress (\d+)\/(\d+) (\d+)% /gm)]
    .map((m) => ({ sent: Number(m[1]), total: Number(m[2]), pct: Number(m[3]) }));
}

