// Presigned mode: the client PUTs straight to S3 with a URL upload-api
// signed; the first job for the object checks it is there with the declared
// size; outputs are fetched with a presigned GET URL from job-api.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { GATEWAY, OTHER_KEY, assertError, auth, createJob, jobEnded, randomBytes, sha256, waitFor } from './helpers.mjs';

async function presign(body, { key, contentType = 'application/json' } = {}) {
  const res = await fetch(`${GATEWAY}/api/uploads/presign`, {
    method: 'POST',
    headers: { ...auth(key), 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const put = (url, data) => fetch(url, { method: 'PUT', body: data }).then((r) => r.status);
const done = (id) => jobEnded(id);

test('presigned PUT straight to S3, then a job: verified, processed, output by presigned GET', async () => {
  const data = randomBytes(300 * 1024);
  const p = await presign({ size: data.length, filename: '../clip one.mp4', content_type: 'video/mp4' });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  assert.match(p.body.object_key, /^uploads\/[0-9a-f-]{36}$/);
  assert.equal(p.body.filename, 'clip_one.mp4');
  assert.equal(p.body.method, 'PUT');
  assert.ok(Date.parse(p.body.expires_at) > Date.now() + 60000);
  assert.match(p.body.url, /X-Amz-Signature=[0-9a-f]{64}/);

  // Before the bytes are there, no job can be made for the object.
  const early = await createJob({ object_key: p.body.object_key, type: 'file.inspect' });
  assertError(early, 422, 'unknown_object');
  assert.match(early.body.detail, /not in S3 yet/);

  assert.equal(await put(p.body.url, data), 200);
  const r = await createJob({ object_key: p.body.object_key, type: 'file.inspect' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const job = await done(r.body.job_id);
  assert.equal(job.status, 'COMPLETED');
  assert.equal(job.result.sha256, sha256(data));
  assert.equal(job.result.size, data.length);

  const up = await (await fetch(`${GATEWAY}/api/uploads/${p.body.upload_id}`, { headers: auth() })).json();
  assert.equal(up.state, 'COMPLETE');
  assert.equal(up.size, data.length);

  const out = await (await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output`, { headers: auth() })).json();
  assert.equal(out.object_key, job.result.output_key);
  const fetched = await (await fetch(out.url)).json();
  assert.equal(fetched.sha256, sha256(data));
  // Another owner can neither see the output nor use the object.
  const foreign = await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output`, { headers: auth(OTHER_KEY) });
  assertError({ status: foreign.status, body: await foreign.json() }, 404, 'not_found');
  assertError(await createJob({ object_key: p.body.object_key, type: 'file.inspect' }, { key: OTHER_KEY }),
    422, 'unknown_object');
});

test('an object of another size than declared is refused, in a batch too', async () => {
  const p = await presign({ size: 10 });
  assert.equal(p.status, 201);
  assert.equal(await put(p.body.url, randomBytes(20)), 200);
  const r = await createJob({ object_key: p.body.object_key, type: 'file.inspect' });
  assertError(r, 422, 'unknown_object');
  assert.match(r.body.detail, /20 bytes, not the 10 declared/);
  const q = await presign({ size: 5 });
  assert.equal(await put(q.body.url, Buffer.from('12345')), 200);
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: [{ object_key: q.body.object_key, type: 'noop' },
      { object_key: p.body.object_key, type: 'noop' }] }),
  });
  const b = { status: res.status, body: await res.json() };
  assertError(b, 422, 'unknown_object');
  assert.match(b.body.detail, /jobs\[1\].*not the 10 declared/);
  // The good one was verified; alone it goes through.
  const ok = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: [{ object_key: q.body.object_key, type: 'noop' }] }),
  });
  assert.equal(ok.status, 202);
});

test('bad presign requests and outputs that do not exist get clear errors', async () => {
  assertError(await presign({}), 400, 'bad_request');
  assertError(await presign({ size: -1 }), 400, 'bad_request');
  assertError(await presign({ size: 1.5 }), 400, 'bad_request');
  assertError(await presign({ size: 1, colour: 'red' }), 400, 'bad_request');
  assertError(await presign({ size: 1, content_type: 'not a type' }), 400, 'bad_request');
  assertError(await presign('{"size":'), 400, 'bad_request');
  assertError(await presign({ size: 1e15 }), 413, 'payload_too_large');
  assertError(await presign({ size: 1 }, { contentType: 'text/plain' }), 415, 'unsupported_media_type');
  assertError(await presign({ size: 1 }, { key: 'wrong-key' }), 401);
  const get = await fetch(`${GATEWAY}/api/uploads/presign`, { headers: auth() });
  assert.notEqual(get.status, 200);
  const noop = await presign({ size: 3 });
  await put(noop.body.url, Buffer.from('abc'));
  const r = await createJob({ object_key: noop.body.object_key, type: 'noop' });
  const job = await done(r.body.job_id);
  const out = await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output`, { headers: auth() });
  assertError({ status: out.status, body: await out.json() }, 409, 'no_output');
  const named = await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output?name=valid.csv`, { headers: auth() });
  assertError({ status: named.status, body: await named.json() }, 404, 'not_found');
  const missing = await fetch(`${GATEWAY}/api/jobs/00000000-0000-4000-8000-000000000000/output`, { headers: auth() });
  assertError({ status: missing.status, body: await missing.json() }, 404, 'not_found');
  const post = await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output`, { method: 'POST', headers: auth() });
  assertError({ status: post.status, body: await post.json() }, 405);
});

test('a presigned upload left unused past its URL and grace is swept: object deleted, ABORTED', async () => {
  const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
    '-U', 'postgres', '-d', 'rap', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
  const p = await presign({ size: 4 });
  assert.equal(await put(p.body.url, Buffer.from('left')), 200);
  const s3Url = p.body.url.split('?')[0];
  assert.equal((await fetch(s3Url, { method: 'HEAD' })).status, 200);
  // Its URL expired long ago (the test stack sweeps with no grace).
  psql(`UPDATE uploads SET presigned_until = now() - interval '1 hour' WHERE id = '${p.body.upload_id}'`);
  const swept = await waitFor('the upload is ABORTED', async () => {
    const u = await (await fetch(`${GATEWAY}/api/uploads/${p.body.upload_id}`, { headers: auth() })).json();
    return u.state === 'ABORTED' && u;
  }, 20000, 200);
  assert.equal(swept.state, 'ABORTED');
  assert.equal((await fetch(s3Url, { method: 'HEAD' })).status, 404);
  assertError(await createJob({ object_key: p.body.object_key, type: 'noop' }), 422, 'unknown_object');
});
