// Content checked by magic numbers: upload-api records the type libmagic
// detects in the first bytes, whatever the client claims, and a job type
// with an allow-list (the test stack: RAP_JOB_CONTENT_TYPES=test.fault=text/plain)
// takes only matching uploads, through POST /jobs and /jobs/batch alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, assertError, auth, createJob, upload } from './helpers.mjs';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64)]);
const listed = (process.env.RAP_JOB_CONTENT_TYPES || '').includes('test.fault=');

test('the detected type is recorded, whatever name and type the client claimed', async () => {
  const up = await upload(PNG, { filename: 'notes.txt' });
  assert.equal(up.status, 201);
  const u = await (await fetch(`${GATEWAY}/api/uploads/${up.body.upload_id}`, { headers: auth() })).json();
  assert.equal(u.detected_type, 'image/png');
  const txt = await upload(Buffer.from('just some words\n'), { filename: 'a.png' });
  const t = await (await fetch(`${GATEWAY}/api/uploads/${txt.body.upload_id}`, { headers: auth() })).json();
  assert.equal(t.detected_type, 'text/plain');
});

test('a job type with an allow-list refuses other content with 415', { skip: !listed && 'RAP_JOB_CONTENT_TYPES has no test.fault entry' }, async () => {
  const png = (await upload(PNG, { filename: 'disguised.txt' })).body.object_key;
  const txt = (await upload(Buffer.from('plain text input\n'))).body.object_key;
  const refused = await createJob({ object_key: png, type: 'test.fault', params: { mode: 'succeed' } });
  assertError(refused, 415, 'unsupported_content');
  assert.match(refused.body.detail, /image\/png/);
  const ok = await createJob({ object_key: txt, type: 'test.fault', params: { mode: 'succeed' } });
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
  // Types without a list take anything.
  assert.equal((await createJob({ object_key: png, type: 'noop' })).status, 202);
  const res = await fetch(`${GATEWAY}/api/jobs/batch`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: [{ object_key: txt, type: 'test.fault' }, { object_key: png, type: 'noop' },
      { object_key: png, type: 'test.fault' }] }),
  });
  const b = { status: res.status, body: await res.json() };
  assertError(b, 415, 'unsupported_content');
  assert.match(b.body.detail, /^jobs\[2\]/);
});
