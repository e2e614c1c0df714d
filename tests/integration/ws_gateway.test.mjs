// The gateway carries thousands of WebSockets (issue 12, fan-out): nginx's
// worker_connections and the open-file limits of nginx and the services are
// set for 10,000 clients.  This opens 2,500 through the gateway, more than
// the 2 x 1,024 worker connections of the old configuration could hold at
// two per WebSocket (about 950 got through), and checks that every one of
// them is told the same job's COMPLETED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJob, follower, notifierMetric as counter, upload } from './helpers.mjs';

const N = 2500;
const WAVE = 250;

test(`${N} WebSockets through the gateway all connect, and each gets one job's COMPLETED`, async () => {
  let target = null;
  const told = new Set();
  const sockets = [];
  let subscribed = 0;
  try {
    for (let i = 0; i < N; i += WAVE) {
      const wave = await Promise.allSettled(Array.from({ length: WAVE }, (_, j) => follower({
        sockets,
        onMessage: (m) => {
          if (m.type === 'job.status' && m.to === 'COMPLETED' && m.job_id === target) told.add(i + j);
        },
      })));
      const failed = wave.filter((r) => r.status === 'rejected');
      subscribed += wave.length - failed.length;
      assert.equal(failed.length, 0, `${subscribed} WebSockets subscribed, then ${failed.length} of `
        + `the next ${WAVE} failed: ${failed[0]?.reason?.message}`);
    }
    assert.equal(subscribed, N, 'every WebSocket was accepted and subscribed');
    const frames0 = await counter('rap_notifier_frames_sent_total');
    const writes0 = await counter('rap_notifier_writes_total');
    const k = (await upload(Buffer.from('fan-out'))).body.object_key;
    const created = await createJob({ object_key: k, type: 'noop' });
    assert.equal(created.status, 202);
    target = created.body.job_id;
    const deadline = Date.now() + 60000;
    while (told.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(told.size, N, `${told.size} of ${N} followers were told the job COMPLETED in 60 s`);
    // The job's events reach each follower close together: the frames
    // waiting for a client go out in one write, not one write a frame.
    const frames = await counter('rap_notifier_frames_sent_total') - frames0;
    const writes = await counter('rap_notifier_writes_total') - writes0;
    assert.ok(frames >= 2 * N, `at least two frames a follower (${frames})`);
    assert.ok(writes < frames, `${frames} frames went out in ${writes} writes`);
  } finally {
    for (const ws of sockets) ws.terminate();
  }
});
