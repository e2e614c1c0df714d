// upload-api killed (SIGKILL) in the middle of a tus PATCH: the upload's
// state is in PostgreSQL and S3, not in the process, so after the restart
// HEAD tells the true offset (the last stored part), the client resumes
// from there, and the object's sha256 is the file's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { GATEWAY, auth, randomBytes, sha256, waitFor } from '../integration/helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const MiB = 1024 * 1024;
const TUS = { 'Tus-Resumable': '1.0.0' };
const pidOf = (name) => {
  try { return Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8')); } catch { return 0; }
};
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function head(loc) {
  const res = await fetch(`${GATEWAY}${loc}`, { method: 'HEAD', headers: { ...TUS, ...auth() } });
  return { status: res.status, offset: Number(res.headers.get('upload-offset')) };
}

test('upload-api killed mid-PATCH: HEAD tells the stored offset after the restart, the upload resumes', async (t) => {
  const data = randomBytes(24 * MiB + 4321);
  const c = await fetch(`${GATEWAY}/api/files/`, {
    method: 'POST', headers: { ...TUS, ...auth(), 'Upload-Length': String(data.length) },
  });
  assert.equal(c.status, 201);
  const loc = c.headers.get('location');
  // One PATCH of the whole file, sent at about 8 MiB/s.
  const target = new URL(GATEWAY);
  const req = http.request({
    host: target.hostname, port: target.port, path: loc, method: 'PATCH',
    headers: { ...TUS, ...auth(), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0', 'Content-Length': data.length },
  });
  const answered = new Promise((resolve) => {
    req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve('cut'));
  });
  let stop = false;
  const sending = (async () => {
    for (let o = 0; o < data.length && !stop; o += 256 * 1024) {
      req.write(data.subarray(o, o + 256 * 1024));
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  const before = await waitFor('a part stored', async () => {
    const h = await head(loc);
    return h.offset >= 5 * MiB && h.offset;
  }, 30000, 50);
  const pid = pidOf('upload-api');
  assert.ok(pid > 0);
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  stop = true;
  await sending;
  req.destroy();
  await answered;
  // The supervisor restarts upload-api; HEAD answers from the database.
  await waitFor('upload-api restarted', () => pidOf('upload-api') !== pid && alive(pidOf('upload-api')), 30000, 100);
  const after = await waitFor('HEAD answers again', async () => {
    try {
      const h = await head(loc);
      return h.status === 200 && h;
    } catch { return false; }
  }, 30000, 100);
  t.diagnostic(`upload-api back ${Date.now() - killedAt} ms after the kill; offset ${before} before, ${after.offset} after`);
  assert.ok(after.offset >= before, `stored offset ${after.offset} kept (was ${before})`);
  assert.ok(after.offset < data.length);
  assert.equal(after.offset % (5 * MiB), 0, 'a killed process saves no tail: the offset is a part boundary');

  const heads = [];
  const url = new URL(loc, GATEWAY).href;
  const u = await new Promise((resolve, reject) => {
    const up = new tus.Upload(data, {
      uploadUrl: url, headers: auth(), chunkSize: 8 * MiB, retryDelays: [200, 500, 1000, 2000],
      onAfterResponse: (rq, res) => { if (rq.getMethod() === 'HEAD') heads.push(Number(res.getHeader('Upload-Offset'))); },
      onError: reject, onSuccess: () => resolve(up),
    });
    up.start();
  });
  assert.equal(heads[0], after.offset, 'the client resumed at the stored offset');
  const info = await (await fetch(`${GATEWAY}/api/uploads/${u.url.split('/').pop()}`, { headers: auth() })).json();
  assert.equal(info.state, 'COMPLETE');
  assert.equal(info.sha256, sha256(data));
});
