// The notifier at scale (issue 12, fan-out): several instances behind the
// gateway, each client held by one and every instance told every event;
// health and metrics on an admin port of their own, off the WebSocket loop;
// a client too slow for its bounded queue closed with 4008 and the `since`
// to resume from, while the clients that keep up lose nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_KEY, GATEWAY, NOTIFIER_URLS, OTHER_KEY, auth, createJob, follower, notifierMetrics, upload, waitFor,
} from './helpers.mjs';

const NOTIFIER_WS = `ws://127.0.0.1:${process.env.RAP_NOTIFIER_PORT || 8103}/ws`;

async function noopJob(key = API_KEY) {
  const k = (await upload(Buffer.from('notifiers'), { key })).body.object_key;
  const r = await createJob({ object_key: k, type: 'noop' }, { key });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}

test('two notifiers behind the gateway: each client is held by one, and each gets every event', async () => {
  assert.equal(NOTIFIER_URLS.length, 2, 'the test stack runs two notifiers');
  const N = 24;
  const sockets = [];
  let target = null;
  const told = new Set();
  try {
    const clients0 = await notifierMetrics('rap_notifier_clients');
    const frames0 = await notifierMetrics('rap_notifier_frames_sent_total');
    for (let i = 0; i < N; i++) {
      await follower({
        sockets,
        onMessage: (m) => { if (m.job_id === target && m.to === 'COMPLETED') told.add(i); },
      });
    }
    const held = (await notifierMetrics('rap_notifier_clients')).map((c, i) => c - clients0[i]);
    assert.equal(held[0] + held[1], N, `the notifiers hold ${held} of the ${N} clients`);
    // least_conn: new WebSockets go to the instance with fewer.
    assert.ok(held[0] >= N / 4 && held[1] >= N / 4, `clients spread ${held}`);
    target = await noopJob();
    await waitFor(`all ${N} clients told COMPLETED`, () => told.size === N, 30000, 20);
    const frames = (await notifierMetrics('rap_notifier_frames_sent_total')).map((f, i) => f - frames0[i]);
    assert.ok(frames[0] >= held[0] && frames[1] >= held[1], `each instance sent to its own: ${frames}`);
  } finally {
    for (const ws of sockets) ws.terminate();
  }
});

test('each notifier answers /healthz, /readyz and /metrics on its admin port', async () => {
  for (const url of NOTIFIER_URLS) {
    let res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    res = await fetch(`${url}/readyz`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, 'ready');
    res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^rap_notifier_clients \d+/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    res = await fetch(`${url}/ws`);
    assert.equal(res.status, 404, 'WebSockets are not served on the admin port');
    assert.equal((await res.json()).code, 'not_found');
  }
});

async function createBatch(n, key) {
  const k = (await upload(Buffer.from('slow client'), { key })).body.object_key;
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(key), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: Array.from({ length: n }, () => ({ object_key: k, type: 'noop' })) }),
  });
  assert.equal(res.status, 202);
  return (await res.json()).jobs.map((j) => j.job_id);
}

test('a client that stops reading is closed with 4008 and its since; one that reads gets every event', async () => {
  const sockets = [];
  const seen = [];
  const completed = new Set();
  let fastClosed = null;
  try {
    // Both followers on the first notifier (its own port), for the other owner.
    const slow = await follower({
      url: NOTIFIER_WS, key: OTHER_KEY, sockets, onMessage: (m) => { if (m.event_id) seen.push(m.event_id); },
    });
    const closed = new Promise((resolve) => slow.once('close', (code, reason) => resolve({ code, reason: `${reason}` })));
    const fast = await follower({
      url: NOTIFIER_WS, key: OTHER_KEY, sockets, onMessage: (m) => { if (m.to === 'COMPLETED') completed.add(m.job_id); },
    });
    fast.once('close', (code) => { fastClosed = code; });
    slow._socket.pause(); // the kernel's buffers fill, then its queue
    const dropped0 = (await notifierMetrics('rap_notifier_slow_clients_dropped_total'))[0];
    const jobs = [];
    // Each job is four events; the queue's bound plus what the sockets
    // buffer is reached within a few thousand jobs.
    for (let i = 0; i < 20; i++) {
      jobs.push(...await createBatch(1000, OTHER_KEY));
      await waitFor('the batch done', () => jobs.every((id) => completed.has(id)), 60000, 50);
      if ((await notifierMetrics('rap_notifier_slow_clients_dropped_total'))[0] > dropped0) break;
    }
    assert.ok((await notifierMetrics('rap_notifier_slow_clients_dropped_total'))[0] > dropped0,
      `the slow client was not dropped after ${jobs.length} jobs`);
    slow._socket.resume();
    const { code, reason } = await closed;
    assert.equal(code, 4008, `closed with ${code} ${reason}`);
    const why = JSON.parse(reason);
    assert.equal(why.code, 'too_slow');
    assert.ok(Number.isInteger(why.since) && why.since > 0, reason);
    // Everything it was sent up to since reached it; it resumes from there.
    assert.ok(seen.length > 0 && seen.length < jobs.length * 4, `${seen.length} events reached it`);
    assert.ok(why.since <= Math.max(...seen), `since ${why.since} is past what it got`);
    const replayed = [];
    const again = await follower({
      url: NOTIFIER_WS, key: OTHER_KEY, since: why.since, sockets, onMessage: (m) => { if (m.event_id) replayed.push(m.event_id); },
    });
    await waitFor('a replay after since', () => replayed.length > 0, 15000, 20);
    assert.ok(replayed.every((id) => id > why.since), 'the replay starts after since');
    again.terminate();
    // The client that kept up lost nothing and was never closed.
    assert.equal(completed.size >= jobs.length, true, `${completed.size} of ${jobs.length} COMPLETED`);
    assert.equal(fastClosed, null);
  } finally {
    for (const ws of sockets) ws.terminate();
  }
});
