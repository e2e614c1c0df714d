// The walking skeleton end to end through the gateway: upload -> job ->
// worker -> COMPLETED, with every transition pushed over WebSocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventClient, createJob, getJob, randomBytes, sha256, upload, waitFor,
} from './helpers.mjs';

// Larger than two 5 MiB parts, so the S3 multipart path is taken.
const FILE_SIZE = 12 * 1024 * 1024 + 12345;

test('a file goes upload -> job -> COMPLETED and every transition is pushed', async () => {
  const ws = new EventClient();
  await ws.open();
  try {
    const sub = await ws.subscribe();
    assert.equal(sub.type, 'subscribed');

    const data = randomBytes(FILE_SIZE);
    const up = await upload(data, { filename: '../../etc/my file?.bin' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.size, FILE_SIZE);
    assert.equal(up.body.sha256, sha256(data));
    assert.match(up.body.object_key, /^uploads\/[0-9a-f-]{36}$/);
    assert.equal(up.body.filename, 'my_file_.bin');

    const created = await createJob({ object_key: up.body.object_key, type: 'file.inspect' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.status, 'CREATED');
    const jobId = created.body.job_id;
    assert.equal(created.headers.get('location'), `/api/jobs/${jobId}`);

    // Pushed, not polled: the owner subscription was open before the job
    // existed and replays nothing, so these frames came live.
    const done = await ws.waitFor('COMPLETED pushed',
      (m) => m.type === 'job.status' && m.job_id === jobId && m.to === 'COMPLETED');
    assert.equal(done.replay, undefined);
    const pushed = ws.messages.filter((m) => m.type === 'job.status' && m.job_id === jobId);
    const states = pushed.map((m) => m.to);
    assert.equal(states[0], 'CREATED');
    assert.ok(states.includes('PROCESSING'), states.join(','));
    assert.equal(states.at(-1), 'COMPLETED');
    const ids = pushed.map((m) => m.event_id);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'events arrive in order');

    const job = await getJob(jobId);
    assert.equal(job.status, 200);
    assert.equal(job.body.status, 'COMPLETED');
    assert.equal(job.body.attempt, 1);
    assert.equal(job.body.result.sha256, sha256(data));
    assert.equal(job.body.result.size, FILE_SIZE);
    // Random bytes may look like anything to libmagic (MZ, say); the PDF
    // test below pins detection down.
    assert.match(job.body.result.mime_type, /^[a-z]+\/[\w.+-]+$/);
    assert.equal(job.body.result.output_key, `processed/${jobId}/result.json`);
    for (const f of ['created_at', 'updated_at', 'started_at', 'finished_at']) {
      assert.match(job.body[f], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, f);
    }
    const history = job.body.events.map((e) => `${e.from}->${e.to}`);
    assert.equal(history[0], 'null->CREATED');
    assert.equal(history.at(-1), 'PROCESSING->COMPLETED');
    assert.deepEqual(job.body.events.map((e) => e.event_id), ids,
      'the WebSocket pushed exactly the recorded transitions');
  } finally {
    ws.close();
  }
});

test('subscribing to a finished job replays its history, so a reconnect misses nothing', async () => {
  const data = Buffer.from('%PDF-1.4\n' + 'x'.repeat(5000));
  const up = await upload(data, { filename: 'doc.pdf' });
  assert.equal(up.status, 201);
  const created = await createJob({ object_key: up.body.object_key, type: 'file.inspect' });
  const jobId = created.body.job_id;
  const job = await waitFor('job COMPLETED', async () => {
    const j = await getJob(jobId);
    return j.body.status === 'COMPLETED' && j;
  });
  assert.equal(job.body.result.mime_type, 'application/pdf');

  const ws = new EventClient();
  await ws.open();
  try {
    const sub = await ws.subscribe({ job_id: jobId });
    assert.equal(sub.job_id, jobId);
    await ws.waitFor('replayed COMPLETED', (m) => m.to === 'COMPLETED' && m.job_id === jobId);
    const replayed = ws.messages.filter((m) => m.type === 'job.status');
    assert.deepEqual(replayed.map((m) => m.event_id), job.body.events.map((e) => e.event_id));
    assert.ok(replayed.every((m) => m.replay === true));

    // since= skips what the client already has.
    const ws2 = new EventClient();
    await ws2.open();
    const lastButOne = job.body.events.at(-2).event_id;
    await ws2.subscribe({ job_id: jobId, since: lastButOne });
    await ws2.waitFor('last event', (m) => m.to === 'COMPLETED');
    assert.equal(ws2.messages.filter((m) => m.type === 'job.status').length, 1);
    ws2.close();
  } finally {
    ws.close();
  }
});

test('an empty file is a valid upload and is inspected', async () => {
  const up = await upload(Buffer.alloc(0), { filename: 'empty.txt' });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal(up.body.size, 0);
  assert.equal(up.body.sha256, sha256(Buffer.alloc(0)));
  const created = await createJob({ object_key: up.body.object_key, type: 'file.inspect' });
  const job = await waitFor('job COMPLETED', async () => {
    const j = await getJob(created.body.job_id);
    return j.body.status === 'COMPLETED' && j;
  });
  assert.equal(job.body.result.size, 0);
});

test('the same Idempotency-Key returns the same job; a different body is a conflict', async () => {
  const up = await upload(Buffer.from('idempotent'));
  const key = `k-${Date.now()}`;
  const body = { object_key: up.body.object_key, type: 'file.inspect' };
  const a = await createJob(body, { headers: { 'Idempotency-Key': key } });
  const b = await createJob(body, { headers: { 'Idempotency-Key': key } });
  assert.equal(a.status, 202);
  assert.equal(b.status, 200);
  assert.equal(b.body.job_id, a.body.job_id);
  assert.equal(b.body.idempotent_replay, true);
  // The same request with other whitespace and key order is the same request.
  const reordered = `{ "type" : "file.inspect", "object_key" : ${JSON.stringify(up.body.object_key)} }`;
  const r = await createJob(reordered, { headers: { 'Idempotency-Key': key } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.job_id, a.body.job_id);
  const c = await createJob({ ...body, max_attempts: 2 }, { headers: { 'Idempotency-Key': key } });
  assert.equal(c.status, 409);
  assert.equal(c.body.code, 'idempotency_conflict');
});
