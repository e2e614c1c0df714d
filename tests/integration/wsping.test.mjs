// Dead WebSockets are found (services/notifier/ws.c, RAP_NOTIFIER_WS_PING_
// SECONDS and RAP_NOTIFIER_WS_PONG_SECONDS): a WebSocket that has not
// answered for the ping interval is pinged, and one that does not answer
// within the pong time is closed and its place freed.  A client gone
// without a word (a lost link, a sleeping laptop) otherwise held its place
// and its topic for ever.  A client that answers pings, as browsers and
// WebSocket libraries do by themselves, stays and is told its jobs; an SSE
// stream, which has no pings, is not closed by them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocketClient from 'ws';
import { API_KEY, auth, createJob, follower, startNotifier, upload, waitFor } from './helpers.mjs';

const PING = 1, PONG = 2;

async function connections(adminPort) {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const m = text.match(/^rap_notifier_connections (\d+)/m);
  return m ? Number(m[1]) : NaN;
}

// A WebSocket that subscribes and then never answers a ping (ws's autoPong
// off: what the notifier sees of a peer that is gone).
function silentClient(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(url, { autoPong: false });
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('no subscription within 10 s')); }, 10000);
    ws.pings = 0;
    ws.on('ping', () => ws.pings++);
    ws.closed = new Promise((r) => ws.once('close', (code) => r({ code, at: Date.now() })));
    ws.once('error', (e) => { clearTimeout(timer); reject(e); });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', api_key: API_KEY, since: 1e15 })));
    ws.on('message', (data) => {
      if (JSON.parse(data).type === 'subscribed') { clearTimeout(timer); resolve(ws); }
    });
  });
}

test(`a WebSocket silent past the ping (${PING} s) and pong (${PONG} s) times is closed; one that answers stays, and so does an SSE stream`, async () => {
  const n = await startNotifier({
    RAP_NOTIFIER_WS_PING_SECONDS: String(PING),
    RAP_NOTIFIER_WS_PONG_SECONDS: String(PONG),
    RAP_NOTIFIER_SSE_HEARTBEAT_SECONDS: '1',
  });
  const url = `ws://127.0.0.1:${n.port}/ws`;
  const sockets = [];
  const ctl = new AbortController();
  try {
    let target = null, told = null, livePings = 0;
    const live = await follower({
      url, sockets, timeoutMs: 10000,
      onMessage: (m) => { if (m.type === 'job.status' && m.job_id === target && m.to === 'COMPLETED') told = m; },
    });
    live.on('ping', () => livePings++);
    const silent = await silentClient(url);
    sockets.push(silent);
    const t0 = Date.now();
    const sse = await fetch(`http://127.0.0.1:${n.port}/events`, { headers: auth(), signal: ctl.signal });
    assert.equal(sse.status, 200);
    let sseText = '', sseEnded = false;
    const reading = (async () => {
      try {
        for await (const chunk of sse.body) sseText += Buffer.from(chunk).toString('utf8');
      } catch { /* aborted at the end */ }
      sseEnded = true;
    })();
    await waitFor('three open connections', async () => (await connections(n.admin)) === 3, 10000, 50);

    // The silent client is pinged and, not answering, closed without a
    // close frame once the pong time has passed.
    const closed = await Promise.race([silent.closed, new Promise((_, rej) => setTimeout(
      () => rej(new Error('a WebSocket that answers no ping is still open')), (PING + PONG + 15) * 1000))]);
    assert.ok(silent.pings >= 1, 'the silent client was pinged before it was closed');
    assert.equal(closed.code, 1006, 'closed by a hang-up, not a close frame');
    const after = (closed.at - t0) / 1000;
    assert.ok(after >= PING, `closed ${after} s after subscribing, before its ping was due`);
    await waitFor('the silent client\'s place to be freed', async () => (await connections(n.admin)) === 2, 10000, 50);

    // The live client answers its pings and stays past several rounds; the
    // SSE stream stays too, fed by its heartbeat comments.
    await waitFor(`the live client to have answered 3 pings`, () => livePings >= 3, (3 * (PING + PONG) + 15) * 1000, 50);
    assert.equal(live.readyState, WebSocketClient.OPEN, 'a client that answers pings was closed');
    assert.equal(sseEnded, false, 'the SSE stream was closed');
    assert.ok((sseText.match(/^: ping$/gm) || []).length >= 2, `SSE stream: ${JSON.stringify(sseText.slice(0, 200))}`);

    // ...and is still told its jobs.
    const key = (await upload(Buffer.from('pinged'))).body.object_key;
    const created = await createJob({ object_key: key, type: 'noop' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    target = created.body.job_id;
    await waitFor(`the live client to be told job ${target}'s COMPLETED`, () => told, 30000, 20);
    assert.equal(await connections(n.admin), 2);
    console.log(`ping ${PING} s, pong ${PONG} s: the silent client was closed ${after.toFixed(1)} s after subscribing ` +
      `(${silent.pings} ping(s) unanswered); the live one answered ${livePings} and stayed`);
    ctl.abort();
    await reading;
  } finally {
    ctl.abort();
    for (const ws of sockets) ws.terminate();
    await n.stop();
  }
});

test('RAP_NOTIFIER_WS_PING_SECONDS=0 pings nobody', async () => {
  const n = await startNotifier({ RAP_NOTIFIER_WS_PING_SECONDS: '0', RAP_NOTIFIER_WS_PONG_SECONDS: '1' });
  const sockets = [];
  try {
    const silent = await silentClient(`ws://127.0.0.1:${n.port}/ws`);
    sockets.push(silent);
    // A bounded wait for what must not happen: five times the shortest
    // interval that would have pinged and closed it.
    const outcome = await Promise.race([silent.closed, new Promise((r) => setTimeout(() => r('open'), 5000))]);
    assert.equal(outcome, 'open', 'closed with pings off');
    assert.equal(silent.pings, 0);
  } finally {
    for (const ws of sockets) ws.terminate();
    await n.stop();
  }
});
