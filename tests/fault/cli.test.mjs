// The CLI through service restarts: upload-api killed (SIGKILL) in the middle
// of `rap upload`, and the notifier killed under `rap watch`. The stack's
// supervisors restart them; the same CLI run waits, reconnects and finishes.
// Run with the other fault tests (they kill services).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  GATEWAY, auth, createJob, notifierMetrics, randomBytes, sha256, upload, waitFor,
} from '../integration/helpers.mjs';
import { MiB, linkProxy, rap, stateFiles, tempDir, tusOffset } from '../integration/cli-helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const pidOf = (name) => {
  try { return Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8')); } catch { return 0; }
};
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const restarted = (name, old) => waitFor(`${name} restarted`,
  () => pidOf(name) !== old && alive(pidOf(name)), 30000, 100);

test('upload-api killed mid-upload: the same rap run waits, resumes from the stored offset, finishes', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'data.bin');
  const data = randomBytes(24 * MiB + 4321);
  fs.writeFileSync(file, data);
  const state = path.join(dir, 'state');
  // A slow link, so that the kill lands mid-upload.
  const proxy = await linkProxy({ rate: 6 * MiB });
  t.after(() => proxy.close());
  const run = rap(['upload', file, '--type', 'file.inspect', '--url', proxy.url, '--state-dir', state,
    '--chunk-size', '5M', '--watch']);
  const { url, before } = await waitFor('a chunk stored', async () => {
    const [rec] = stateFiles(state);
    const off = rec ? await tusOffset(rec.upload_url) : -1;
    return off >= 5 * MiB && { url: rec.upload_url, before: off };
  }, 30000, 50);
  const pid = pidOf('upload-api');
  process.kill(pid, 'SIGKILL');
  await restarted('upload-api', pid);
  proxy.rate = 0;
  const r = await run.done;
  t.diagnostic(r.stderr.split('\n').filter((l) => !l.startsWith('progress ')).join(' | '));
  assert.equal(r.code, 0, r.stderr);
  const retried = [...r.stderr.matchAll(/^retry: (?:PATCH at offset (\d+)|HEAD )/gm)];
  assert.ok(retried.length >= 1, `the run retried: ${r.stderr}`);
  // Resumed at or after what was stored before the kill, not from 0.
  assert.ok(retried.filter((m) => m[1] !== undefined).every((m) => Number(m[1]) >= before), r.stderr);
  assert.ok(proxy.upBytes < data.length + 12 * MiB, `sent ${proxy.upBytes} bytes for ${data.length}`);
  const result = JSON.parse(/^result (.*)$/m.exec(r.stdout)[1]);
  assert.equal(result.sha256, sha256(data));
  const info = await (await fetch(`${GATEWAY}/api/uploads/${new URL(url).pathname.split('/').pop()}`,
    { headers: auth() })).json();
  assert.equal(info.sha256, sha256(data));
  assert.deepEqual(stateFiles(state), []);
});

test('rap watch survives a notifier restart and still reports the terminal state', async (t) => {
  const key = (await upload(Buffer.from('watched through a restart\n'), { filename: 'w.txt' })).body.object_key;
  const created = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'sleep', seconds: 4 } });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const id = created.body.job_id;
  const run = rap(['watch', id, '--url', GATEWAY]);
  await waitFor('the watch saw PROCESSING', () => /-> PROCESSING/.test(run.stdout), 30000, 50);
  // The notifier that holds the watch's WebSocket (two are behind the
  // gateway; nothing else follows jobs during the fault tests).
  const held = await waitFor('the watch held by a notifier', async () => {
    const c = await notifierMetrics('rap_notifier_clients');
    return c.some((n) => n > 0) && c;
  }, 10000, 50);
  const name = held[0] > 0 ? 'notifier' : 'notifier-2';
  const pid = pidOf(name);
  process.kill(pid, 'SIGKILL');
  await restarted(name, pid);
  const r = await run.done;
  t.diagnostic(r.stderr.trim().split('\n').join(' | '));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^watch: the WebSocket (closed|could not connect)/m);
  assert.match(r.stderr, /^watch: reconnected; catching up after event \d+$/m);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith(`job ${id}: `));
  assert.equal(new Set(lines).size, lines.length, `no transition twice: ${r.stdout}`);
  assert.equal(lines.filter((l) => l.includes('-> COMPLETED')).length, 1, r.stdout);
  assert.match(r.stdout, /^result \{"mode":"sleep"/m);
});
