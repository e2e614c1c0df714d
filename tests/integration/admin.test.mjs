// The admin role (issue 16, point 7). The stack's keys: admin-key is owner
// ops's and an admin's (RAP_API_KEYS "admin-key=ops:admin"); third-key is
// owner third's, which only this file uses, so "replay all" of other files
// (faults.test.mjs replays owner other's) never meets these jobs. GET /me
// says who a key is; an admin lists and replays any owner's DEAD jobs
// (?owner=NAME or ?all=true) and reads their numbers (GET /jobs/stats with
// the same scopes); an ordinary key gets 403 forbidden for those scopes and
// 404 for another owner's job, as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, GATEWAY, OTHER_KEY, auth, createJob, getJob, upload, waitFor } from './helpers.mjs';

const errCode = (b) => b?.code; // RFC 9457 problem details (docs/errors.md)
const ADMIN_KEY = process.env.RAP_TEST_ADMIN_KEY || 'admin-key';
const THIRD_KEY = process.env.RAP_TEST_THIRD_KEY || 'third-key';

const call = (method, path, key) => fetch(`${GATEWAY}/api/${path}`, { method, headers: auth(key) })
  .then(async (r) => ({ status: r.status, body: await r.json() }));

async function deadJob(key) {
  const input = await upload(Buffer.from('fault input'), { key });
  assert.equal(input.status, 201, JSON.stringify(input.body));
  const res = await createJob({
    object_key: input.body.object_key, type: 'test.fault', params: { mode: 'until_replayed' }, max_attempts: 1,
  }, { key });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const id = res.body.job_id;
  await waitFor(`${id} DEAD`, async () => (await getJob(id, key)).body.status === 'DEAD', 40000, 100);
  return id;
}

test('GET /api/me says the owner and the role of the key', async () => {
  assert.deepEqual((await call('GET', 'me', API_KEY)).body, { owner: 'dev', role: 'user' });
  assert.deepEqual((await call('GET', 'me', ADMIN_KEY)).body, { owner: 'ops', role: 'admin' });
  const none = await fetch(`${GATEWAY}/api/me`);
  assert.equal(none.status, 401);
});

test('an admin lists and replays another owner\'s DEAD jobs, one and all; an ordinary key may not', async () => {
  const [a, b] = await Promise.all([deadJob(THIRD_KEY), deadJob(THIRD_KEY)]);

  // An ordinary key: 403 for another owner's or all DEAD jobs, 404 for
  // another owner's job, its own scope as before.
  for (const q of ['jobs?status=DEAD&owner=third', 'jobs?status=DEAD&all=true']) {
    const r = await call('GET', q, API_KEY);
    assert.equal(r.status, 403, q);
    assert.equal(errCode(r.body), 'forbidden');
  }
  for (const q of ['jobs/replay-dead?owner=third', 'jobs/replay-dead?all=true']) {
    const r = await call('POST', q, API_KEY);
    assert.equal(r.status, 403, q);
    assert.equal(errCode(r.body), 'forbidden');
  }
  assert.equal((await call('POST', `jobs/${a}/replay`, API_KEY)).status, 404);
  assert.equal((await call('GET', `jobs/${a}`, API_KEY)).status, 404);
  const own = await call('GET', 'jobs?status=DEAD&owner=dev', API_KEY);
  assert.equal(own.status, 200, 'its own owner is its own scope');
  assert.ok(own.body.jobs.every((j) => j.job_id !== a && j.job_id !== b));

  // The admin: owner third's DEAD jobs, each with its owner, by owner and
  // in all owners'; the scopes list DEAD jobs only.
  const byOwner = await call('GET', 'jobs?status=DEAD&owner=third&limit=500', ADMIN_KEY);
  assert.equal(byOwner.status, 200, JSON.stringify(byOwner.body));
  const ids = byOwner.body.jobs.map((j) => j.job_id);
  assert.ok(ids.includes(a) && ids.includes(b));
  assert.ok(byOwner.body.jobs.every((j) => j.owner === 'third' && j.status === 'DEAD'));
  const all = await call('GET', 'jobs?status=DEAD&all=true&limit=500', ADMIN_KEY);
  assert.equal(all.status, 200);
  assert.ok(all.body.jobs.some((j) => j.job_id === a && j.owner === 'third'));
  assert.equal((await call('GET', 'jobs?owner=third', ADMIN_KEY)).status, 400);
  // Everything else keeps the admin's own owner.
  const mine = await call('GET', 'jobs?status=DEAD&limit=500', ADMIN_KEY);
  assert.ok(mine.body.jobs.every((j) => j.job_id !== a && j.job_id !== b));
  assert.equal((await call('GET', `jobs/${a}`, ADMIN_KEY)).status, 404);

  // Replay one by id, then all of owner third's.
  const one = await call('POST', `jobs/${a}/replay`, ADMIN_KEY);
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.equal(one.body.status, 'QUEUED');
  const doneA = await waitFor('a completes after the admin replayed it', async () => {
    const j = (await getJob(a, THIRD_KEY)).body;
    return j.status === 'COMPLETED' && j;
  }, 40000, 100);
  const ev = doneA.events.find((e) => e.from === 'DEAD' && e.to === 'QUEUED');
  assert.equal(ev.detail, 'replayed by admin ops');
  const rest = await call('POST', 'jobs/replay-dead?owner=third', ADMIN_KEY);
  assert.equal(rest.status, 200, JSON.stringify(rest.body));
  assert.equal(rest.body.replayed, 1);
  await waitFor('b completes after replay-dead', async () => (await getJob(b, THIRD_KEY)).body.status === 'COMPLETED', 40000, 100);
});

test('an admin reads every owner\'s numbers and one owner\'s; an ordinary key only its own', async () => {
  // A few jobs of owners other and third, in the window.
  for (const key of [OTHER_KEY, OTHER_KEY, THIRD_KEY, THIRD_KEY, THIRD_KEY]) {
    const input = await upload(Buffer.from('stats input'), { key });
    assert.equal(input.status, 201, JSON.stringify(input.body));
    const res = await createJob({ object_key: input.body.object_key, type: 'noop' }, { key });
    assert.equal(res.status, 202, JSON.stringify(res.body));
  }
  const owners = { dev: API_KEY, other: OTHER_KEY, third: THIRD_KEY, ops: ADMIN_KEY };
  const own = {};
  for (const [name, key] of Object.entries(owners)) {
    const r = await call('GET', 'jobs/stats?hours=1', key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.owner, name);
    own[name] = r.body;
  }
  assert.ok(own.other.jobs >= 2 && own.third.jobs >= 3, JSON.stringify(own));

  // Every owner's: at least the sum of the owners' own numbers (the stack's
  // other tests may have owners of their own), by type too.
  const all = await call('GET', 'jobs/stats?hours=1&all=true', ADMIN_KEY);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.equal(all.body.owner, null);
  const sum = (f) => Object.values(own).reduce((n, s) => n + f(s), 0);
  assert.ok(all.body.jobs >= sum((s) => s.jobs), JSON.stringify({ all: all.body, own }));
  assert.ok(all.body.jobs > Math.max(...Object.values(own).map((s) => s.jobs)), 'more than any one owner');
  assert.ok(all.body.uploads.count >= sum((s) => s.uploads.count));
  const count = (s, type) => s.by_type.find((t) => t.type === type)?.count ?? 0;
  assert.ok(count(all.body, 'noop') >= sum((s) => count(s, 'noop')));

  // One owner's, as an admin asks for it: that owner's own numbers.
  const third = await call('GET', 'jobs/stats?hours=1&owner=third', ADMIN_KEY);
  assert.equal(third.status, 200, JSON.stringify(third.body));
  assert.equal(third.body.owner, 'third');
  assert.equal(third.body.jobs, own.third.jobs);
  assert.equal(third.body.uploads.count, own.third.uploads.count);

  // An ordinary key: 403 for all or another owner, its own name allowed.
  for (const q of ['jobs/stats?all=true', 'jobs/stats?owner=other']) {
    const r = await call('GET', q, API_KEY);
    assert.equal(r.status, 403, q);
    assert.equal(errCode(r.body), 'forbidden');
  }
  const mine = await call('GET', 'jobs/stats?hours=1&owner=dev', API_KEY);
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  assert.equal(mine.body.owner, 'dev');
  assert.equal((await call('GET', 'jobs/stats?owner=third&all=true', ADMIN_KEY)).status, 400);
});
