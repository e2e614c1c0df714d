// One of the two notifiers killed (SIGKILL) under its Server-Sent Events
// streams (issue 16, point 4): each stream ends, its reader reconnects
// through the gateway as an EventSource does (after the retry: hint, with
// Last-Event-ID = the last id it got), is taken by the instance that is up,
// and misses nothing and gets nothing twice of what happened meanwhile.
// Run with the other fault tests (they kill services).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY, auth, createJob, getJob, notifierMetrics, upload, waitFor } from '../integration/helpers.mjs';

const STATE = process.env.RAP_STATE_DIR;
const pidOf = (name) => {
  try { return Number(fs.readFileSync(path.join(STATE, 'run', `${name}.child.pid`), 'utf8')); } catch { return 0; }
};
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// A reader of the owner's stream that reconnects by itself, as an
// EventSource does: the last event id is the one of the last event
// dispatched, sent back as Last-Event-ID.
class Reader {
  constructor() {
    this.lastEventId = '';
    this.retry = 3000;
    this.events = [];
    this.reconnects = 0;
    this.stopped = false;
  }

  async connect() {
    this.ctl = new AbortController();
    const headers = auth();
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    const res = await fetch(`${GATEWAY}/api/events`, { headers, signal: this.ctl.signal });
    assert.equal(res.status, 200);
    this.#read(res).finally(() => {
      if (this.stopped) return;
      this.reconnects++;
      // The retry: hint, shortened: the test waits for no one.
      setTimeout(() => this.connect().catch(() => setTimeout(() => this.connect(), 200)), Math.min(this.retry, 200));
    });
  }

  async #read(res) {
    const decoder = new TextDecoder();
    let buf = '';
    let idBuffer = this.lastEventId;
    let ev = { data: [], event: '' };
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === '') {
            this.lastEventId = idBuffer;
            if (ev.data.length && ev.event === 'job.status') this.events.push(JSON.parse(ev.data.join('\n')));
            ev = { data: [], event: '' };
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') ev.data.push(value);
            else if (field === 'event') ev.event = value;
            else if (field === 'id') idBuffer = value;
            else if (field === 'retry') this.retry = Number(value);
          }
        }
      }
    } catch { /* cut */ }
  }

  completed(id) {
    return this.events.some((e) => e.job_id === id && e.to === 'COMPLETED');
  }

  stop() {
    this.stopped = true;
    this.ctl?.abort();
  }
}

async function noop() {
  const k = (await upload(Buffer.from('sse failover'))).body.object_key;
  const r = await createJob({ object_key: k, type: 'noop' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}

test('a notifier killed under its SSE streams: they resume through the gateway, none lost, none twice', async () => {
  const readers = [];
  try {
    const before = await notifierMetrics('rap_notifier_sse_streams');
    let held = [0, 0];
    // At least 8, and some on each notifier (the gateway may still be
    // keeping away from one a fault test restarted: it tries it again
    // after its fail_timeout).
    await waitFor('streams on both notifiers', async () => {
      const r = new Reader();
      readers.push(r);
      await r.connect();
      held = (await notifierMetrics('rap_notifier_sse_streams')).map((c, i) => c - before[i]);
      return readers.length >= 8 && held[0] > 0 && held[1] > 0;
    }, 30000, 250);
    assert.equal(held[0] + held[1], readers.length, `the notifiers hold ${held}`);
    // Everyone has an event id: the resume point.
    const first = await noop();
    await waitFor('all told the first job COMPLETED', () => readers.every((r) => r.completed(first)), 30000, 20);
    const pid = pidOf('notifier-2');
    process.kill(pid, 'SIGKILL');
    const during = [await noop(), await noop(), await noop()];
    await waitFor('every reader told every job COMPLETED',
      () => readers.every((r) => during.every((id) => r.completed(id))), 60000, 50);
    const reconnected = readers.filter((r) => r.reconnects > 0).length;
    assert.equal(reconnected, held[1], `the streams of the killed notifier reconnected (${reconnected})`);
    // What each reader got of these jobs is their whole history, once.
    const want = [];
    for (const id of during) want.push(...(await getJob(id)).body.events.map((e) => e.event_id));
    for (const r of readers) {
      const got = r.events.filter((e) => during.includes(e.job_id)).map((e) => e.event_id);
      assert.equal(new Set(got).size, got.length, 'none twice');
      assert.deepEqual([...got].sort((a, b) => a - b), [...want].sort((a, b) => a - b), 'none lost');
    }
    await waitFor('notifier-2 restarted', () => pidOf('notifier-2') !== pid && alive(pidOf('notifier-2')),
      30000, 100);
  } finally {
    for (const r of readers) r.stop();
  }
});
