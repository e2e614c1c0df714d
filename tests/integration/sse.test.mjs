// Server-Sent Events, the WebSocket's fallback (issue 16, point 4):
// GET /api/jobs/{id}/events and GET /api/events through the gateway, from
// the notifiers. Each event carries the WebSocket's event id as `id:`, its
// type as `event:` and the WebSocket's payload as `data:`; Last-Event-ID
// resumes with nothing lost and nothing repeated; foreign jobs are refused
// as on the WebSocket; the streams get `: ping` comments and count against
// the notifier's connection limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  API_KEY, EventClient, GATEWAY, OTHER_KEY, auth, createJob, follower, startNotifier, upload, waitFor,
} from './helpers.mjs';

const errCode = (b) => b?.code; // RFC 9457 problem details (docs/errors.md)
const env = process.env;

// An SSE stream read with fetch: the events (id, event, data) as the
// EventSource algorithm dispatches them, the comments, the retry hint and
// the last event id (as an EventSource keeps it: set when an event is
// dispatched, so an `id:` whose event was cut off does not count).
class SseStream {
  static async open(url, headers = {}) {
    const s = new SseStream();
    s.ctl = new AbortController();
    s.res = await fetch(url, { headers, signal: s.ctl.signal });
    s.events = [];
    s.comments = [];
    s.retry = null;
    s.lastEventId = '';
    s.ended = false;
    if (s.res.status === 200) s.done = s.#read();
    return s;
  }

  async #read() {
    const decoder = new TextDecoder();
    let buf = '';
    let ev = { data: [], event: '' };
    let idBuffer = '';
    try {
      for await (const chunk of this.res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
          if (line === '') {
            this.lastEventId = idBuffer;
            if (ev.data.length) {
              this.events.push({ id: this.lastEventId, event: ev.event || 'message', data: ev.data.join('\n') });
            }
            ev = { data: [], event: '' };
            continue;
          }
          if (line.startsWith(':')) { this.comments.push(line.slice(1).trim()); continue; }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') ev.data.push(value);
          else if (field === 'event') ev.event = value;
          else if (field === 'id') idBuffer = value;
          else if (field === 'retry') this.retry = Number(value);
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') this.error = e;
    }
    this.ended = true;
  }

  // The job.status events' payloads (optionally of the given jobs only).
  statuses(jobs = null) {
    return this.events.filter((e) => e.event === 'job.status').map((e) => ({ ...JSON.parse(e.data), sseId: e.id }))
      .filter((d) => !jobs || jobs.has(d.job_id));
  }

  close() {
    this.ctl.abort();
  }
}

async function noopJob(key = API_KEY) {
  const k = (await upload(Buffer.from('sse'), { key })).body.object_key;
  const r = await createJob({ object_key: k, type: 'noop' }, { key });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}

async function createBatch(n, key) {
  const k = (await upload(Buffer.from('sse batch'), { key })).body.object_key;
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(key), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: Array.from({ length: n }, () => ({ object_key: k, type: 'noop' })) }),
  });
  assert.equal(res.status, 202);
  return (await res.json()).jobs.map((j) => j.job_id);
}

const withoutReplay = ({ replay, sseId, ...rest }) => rest;

test('a job\'s stream: its whole history then live, the WebSocket\'s payloads with their event ids', async () => {
  const id = await noopJob();
  const s = await SseStream.open(`${GATEWAY}/api/jobs/${id}/events`, auth());
  const ws = new EventClient();
  try {
    assert.equal(s.res.status, 200);
    assert.match(s.res.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(s.res.headers.get('cache-control'), 'no-cache');
    await waitFor('COMPLETED on the stream', () => s.statuses().some((d) => d.to === 'COMPLETED'), 60000, 20);
    assert.equal(s.retry, 3000, 'a retry: hint');
    const got = s.statuses();
    assert.equal(got[0].to, 'CREATED', 'the history from the start');
    assert.equal(got.at(-1).to, 'COMPLETED');
    for (const d of got) {
      assert.equal(d.job_id, id);
      assert.equal(d.sseId, String(d.event_id), 'id: is the event id');
    }
    const ids = got.map((d) => d.event_id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in event id order');
    assert.equal(new Set(ids).size, ids.length, 'none twice');
    // The WebSocket tells the same events, with the same payloads.
    await ws.open();
    await ws.subscribe({ job_id: id });
    await ws.waitFor('COMPLETED on the WebSocket', (m) => m.type === 'job.status' && m.to === 'COMPLETED', 30000);
    const wsEvents = ws.messages.filter((m) => m.type === 'job.status');
    assert.deepEqual(got.map(withoutReplay), wsEvents.map(withoutReplay));
    // The stream stays open after the terminal state (a job may be replayed).
    assert.equal(s.ended, false);
  } finally {
    s.close();
    ws.close();
  }
});

test('the owner\'s stream resumes with Last-Event-ID across a forced disconnect: none lost, none repeated', async () => {
  const mine = new Set();
  const oracle = [];
  const sockets = [];
  const first = await SseStream.open(`${GATEWAY}/api/events`, auth(OTHER_KEY));
  let second = null;
  try {
    assert.equal(first.res.status, 200);
    // A WebSocket follower of the same owner, connected throughout.
    await follower({ key: OTHER_KEY, sockets, onMessage: (m) => { if (m.type === 'job.status') oracle.push(m); } });
    for (const id of await createBatch(200, OTHER_KEY)) mine.add(id);
    // Cut mid-way: some of the jobs' events are in, most are not.
    await waitFor('some events on the first stream', () => first.statuses(mine).length >= 20, 60000, 5);
    first.close();
    await waitFor('the first stream to end', () => first.ended, 5000, 5);
    const lastId = first.lastEventId;
    assert.match(lastId, /^\d+$/);
    const firstGot = first.statuses(mine);
    second = await SseStream.open(`${GATEWAY}/api/events`, { ...auth(OTHER_KEY), 'Last-Event-ID': lastId });
    assert.equal(second.res.status, 200);
    const done = (evs) => new Set(evs.filter((d) => d.to === 'COMPLETED').map((d) => d.job_id)).size === mine.size;
    await waitFor('every job COMPLETED on the WebSocket', () => done(oracle.filter((m) => mine.has(m.job_id))), 90000, 20);
    await waitFor('every job COMPLETED on the streams', () => done([...firstGot, ...second.statuses(mine)]), 30000, 20);
    const sse = [...firstGot, ...second.statuses(mine)].map((d) => d.event_id);
    const ws = new Set(oracle.filter((m) => mine.has(m.job_id)).map((m) => m.event_id));
    assert.equal(new Set(sse).size, sse.length, 'no event twice across the reconnect');
    assert.deepEqual([...sse].sort((a, b) => a - b), [...ws].sort((a, b) => a - b),
      'the two streams together told what the WebSocket told');
    assert.ok(second.statuses(mine).length > 0, `the cut came mid-way (${firstGot.length} events before it)`);
    assert.ok(second.statuses(mine).every((d) => d.event_id > Number(lastId)), 'the second starts after Last-Event-ID');
    // id: only grows on a stream: the last one is the largest it got.
    assert.equal(Number(second.lastEventId), Math.max(...second.statuses().map((d) => d.event_id)));
  } finally {
    first.close();
    second?.close();
    for (const w of sockets) w.terminate();
  }
});

test('refusals: a foreign or unknown job 404, no key 401, a bad Last-Event-ID 400, as JSON', async () => {
  const id = await noopJob(API_KEY);
  const cases = [
    [`/api/jobs/${id}/events`, auth(OTHER_KEY), 404, 'not_found'],
    [`/api/jobs/${crypto.randomUUID()}/events`, auth(), 404, 'not_found'],
    [`/api/jobs/${id}/events`, {}, 401, 'unauthorized'],
    [`/api/events`, { 'X-API-Key': 'no-such-key' }, 401, 'unauthorized'],
    [`/api/events?api_key=no-such-key`, {}, 401, 'unauthorized'],
    [`/api/events`, { ...auth(), 'Last-Event-ID': 'yesterday' }, 400, 'bad_request'],
    [`/api/jobs/${id}/events`, { ...auth(), 'Last-Event-ID': '-5' }, 400, 'bad_request'],
    [`/api/events?since=x`, auth(), 400, 'bad_request'],
  ];
  for (const [url, headers, status, code] of cases) {
    const res = await fetch(`${GATEWAY}${url}`, { headers });
    assert.equal(res.status, status, `${url} ${JSON.stringify(headers)}`);
    assert.match(res.headers.get('content-type'), /^application\/(problem\+)?json/);
    assert.equal(errCode(await res.json()), code, url);
  }
});

test('an EventSource\'s way in: the key as ?api_key= (not written to the gateway\'s log), since= on first connect', async () => {
  const id = await noopJob();
  const rid = `sse-query-${Date.now()}`;
  const all = await SseStream.open(`${GATEWAY}/api/jobs/${id}/events?api_key=${API_KEY}`, { 'X-Request-Id': rid });
  try {
    assert.equal(all.res.status, 200);
    await waitFor('COMPLETED', () => all.statuses().some((d) => d.to === 'COMPLETED'), 60000, 20);
  } finally {
    all.close();
  }
  const ids = all.statuses().map((d) => d.event_id);
  // since= skips what came before it, as Last-Event-ID would.
  const later = await SseStream.open(`${GATEWAY}/api/jobs/${id}/events?api_key=${API_KEY}&since=${ids[1]}`);
  try {
    await waitFor('COMPLETED again', () => later.statuses().some((d) => d.to === 'COMPLETED'), 30000, 20);
    assert.deepEqual(later.statuses().map((d) => d.event_id), ids.slice(2));
  } finally {
    later.close();
  }
  const line = await waitFor('the gateway\'s access log line', () => {
    const text = readFileSync(path.join(env.RAP_STATE_DIR, 'logs', 'nginx-access.log'), 'utf8');
    return text.split('\n').filter((l) => l.includes(rid)).map((l) => JSON.parse(l))[0];
  }, 10000);
  assert.equal(line.uri, `/api/jobs/${id}/events?(query with an api_key: left out)`);
  assert.ok(!JSON.stringify(line).includes(API_KEY), 'the key is not in the log');
});

// A notifier of this test's own (the stack's PostgreSQL and RabbitMQ) with
// a heartbeat of 1 s, an idle timeout of 2 s and room for 3 connections
// from an address: the streams get `: ping` comments and outlive the idle
// timeout, and a fourth stream is refused like a fourth WebSocket.
function metric(text, line) {
  const m = text.match(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

test('heartbeats keep a quiet stream open past the idle timeout; streams count against the connection limits', async () => {
  const n = await startNotifier({
    RAP_NOTIFIER_SSE_HEARTBEAT_SECONDS: '1',
    RAP_NOTIFIER_IDLE_TIMEOUT_SECONDS: '2',
    RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP: '3',
  });
  const streams = [];
  const metrics = async () => (await fetch(`http://127.0.0.1:${n.admin}/metrics`)).text();
  try {
    const url = `http://127.0.0.1:${n.port}/events`;
    for (let i = 0; i < 3; i++) streams.push(await SseStream.open(url, auth()));
    assert.deepEqual(streams.map((s) => s.res.status), [200, 200, 200]);
    let m = await metrics();
    assert.equal(metric(m, 'rap_notifier_sse_streams'), 3);
    assert.equal(metric(m, 'rap_notifier_connections'), 3);
    // A fourth from the same address is closed at once, as a WebSocket would be.
    await assert.rejects(SseStream.open(url, auth()));
    m = await metrics();
    assert.equal(metric(m, 'rap_notifier_connections_refused_total{reason="address"}'), 1);
    // Quiet streams get a ping a second and outlive the 2 s idle timeout
    // (and libwebsockets' own 5 s ones).
    await waitFor('six pings on each stream', () => streams.every((s) => s.comments.filter((c) => c === 'ping').length >= 6), 20000, 50);
    assert.ok(streams.every((s) => !s.ended), 'still open');
    assert.equal(streams[0].events.length, 0, 'a ping is a comment, not an event');
    // A stream that ends gives its place back.
    streams[0].close();
    await waitFor('the place given back', async () => metric(await metrics(), 'rap_notifier_sse_streams') === 2, 10000, 50);
    streams[0] = await SseStream.open(url, auth());
    assert.equal(streams[0].res.status, 200);
    // And it still delivers: a job's events reach a stream of this notifier.
    const id = await noopJob();
    await waitFor('COMPLETED on the test notifier\'s stream',
      () => streams[1].statuses().some((d) => d.job_id === id && d.to === 'COMPLETED'), 60000, 20);
  } finally {
    for (const s of streams) s.close();
    await n.stop();
  }
});
