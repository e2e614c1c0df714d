// One of the two notifiers behind the gateway killed (SIGKILL) under its
// clients: they reconnect through the gateway, as the web UI does (after a
// moment, with `since` = the largest event_id seen), are taken by an
// instance that is up, and miss nothing of what happened meanwhile.
// Run with the other fault tests (they kill services).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { API_KEY, GATEWAY, createJob, notifierMetrics, upload, waitFor } from '../integration/helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const WS_URL = `${GATEWAY.replace(/^http/, 'ws')}/ws`;
const pidOf = (name) => {
  try { return Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8')); } catch { return 0; }
};
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// A follower of all the owner's jobs that reconnects by itself.
class Follower {
  constructor() {
    this.since = 1e15; // the first subscribe: from now on
    this.completed = new Set();
    this.reconnects = 0;
    this.stopped = false;
  }

  connect() {
    return new Promise((resolve) => {
      const ws = new WebSocket(WS_URL);
      this.ws = ws;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY, since: this.since })));
      ws.on('message', (data) => {
        const m = JSON.parse(data);
        if (m.type === 'subscribed') resolve();
        if (m.event_id && (this.since === 1e15 || m.event_id > this.since)) this.since = m.event_id;
        if (m.to === 'COMPLETED') this.completed.add(m.job_id);
      });
      ws.on('error', () => {});
      ws.on('close', () => {
        if (this.stopped) return;
        this.reconnects++;
        setTimeout(() => this.connect(), 200);
      });
    });
  }

  stop() {
    this.stopped = true;
    this.ws.terminate();
  }
}

async function noop() {
  const k = (await upload(Buffer.from('notifier failover'))).body.object_key;
  const r = await createJob({ object_key: k, type: 'noop' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}

test('a notifier killed under its clients: they reconnect through the gateway and miss nothing', async () => {
  const followers = Array.from({ length: 12 }, () => new Follower());
  try {
    const before = await notifierMetrics('rap_notifier_clients');
    for (const f of followers) await f.connect();
    const held = (await notifierMetrics('rap_notifier_clients')).map((c, i) => c - before[i]);
    assert.ok(held[1] > 0, `the second notifier holds some of them (${held})`);
    // Everyone has seen an event: the resume point of a reconnect.
    const first = await noop();
    await waitFor('all told the first job COMPLETED', () => followers.every((f) => f.completed.has(first)),
      30000, 20);
    const pid = pidOf('notifier-2');
    process.kill(pid, 'SIGKILL');
    // Jobs that run while its clients are away.
    const during = [await noop(), await noop(), await noop()];
    await waitFor('every follower told every job COMPLETED',
      () => followers.every((f) => during.every((id) => f.completed.has(id))), 60000, 50);
    const reconnected = followers.filter((f) => f.reconnects > 0).length;
    assert.equal(reconnected, held[1], `the clients of the killed notifier reconnected (${reconnected})`);
    await waitFor('notifier-2 restarted', () => pidOf('notifier-2') !== pid && alive(pidOf('notifier-2')),
      30000, 100);
  } finally {
    for (const f of followers) f.stop();
  }
});
