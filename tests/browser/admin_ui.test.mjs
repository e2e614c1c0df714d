// The web UI's Admin view (issue 16, point 7), in a real headless Chromium:
// with an admin's key (admin-key, owner ops) the Admin tab is there and
// shows every owner's numbers (GET /api/jobs/stats?all=true) and every
// owner's DEAD jobs with their owner; a replay there puts another owner's
// job back in its queue, one by one or all of one owner.  With an ordinary
// key the tab is absent and #/admin is the jobs view.  The view is named,
// keyboard-reachable, in contrast and fits a phone.  The other owner here is
// other (OTHER_KEY): its DEAD jobs made here are all replayed here.
// A screenshot goes to RAP_UI_SHOTS when it is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { API_KEY, auth, createJob, GATEWAY, getJob, OTHER_KEY, upload, waitFor } from '../integration/helpers.mjs';
import { audit, launch } from './browser.mjs';

const ADMIN_KEY = process.env.RAP_TEST_ADMIN_KEY || 'admin-key';
const SHOTS = process.env.RAP_UI_SHOTS || '';
let browser;

before(async () => {
  browser = await launch();
  if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
});

const stats = async (key, q = '') => {
  const r = await fetch(`${GATEWAY}/api/jobs/stats${q}`, { headers: auth(key) });
  assert.equal(r.status, 200);
  return r.json();
};

// A DEAD job of the key's owner (test.fault until_replayed, one attempt).
async function deadJob(key) {
  const input = await upload(Buffer.from('admin view input'), { key });
  assert.equal(input.status, 201, JSON.stringify(input.body));
  const res = await createJob({
    object_key: input.body.object_key, type: 'test.fault', params: { mode: 'until_replayed' }, max_attempts: 1,
  }, { key });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const id = res.body.job_id;
  await waitFor(`${id} DEAD`, async () => (await getJob(id, key)).body.status === 'DEAD', 40000, 100);
  return id;
}

const leftDead = (id, key) => waitFor(`${id} leaves DEAD`, async () => {
  const s = (await getJob(id, key)).body.status;
  return s !== 'DEAD' && s;
}, 30000, 100);

async function openPage(key, { hash = '', viewport } = {}) {
  const page = await browser.newPage(viewport ? { viewport } : {});
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.addInitScript((k) => localStorage.setItem('rap.apiKey', k), key);
  await page.goto(`${GATEWAY}/${hash}`, { waitUntil: 'load' });
  await page.locator('[data-testid=ws-state]').filter({ hasText: 'live' }).waitFor({ timeout: 15000 });
  return { page, problems };
}

test('an admin\'s Admin view: every owner\'s numbers and DEAD jobs; replay one, then all of one owner', async () => {
  const [one, two] = await Promise.all([deadJob(OTHER_KEY), deadJob(OTHER_KEY)]);
  const { page, problems } = await openPage(ADMIN_KEY);
  const tab = page.locator('#admin-tab');
  await tab.waitFor({ state: 'visible', timeout: 10000 });
  await tab.click();
  assert.equal(await tab.getAttribute('aria-current'), 'page');
  const deadRow = (id) => page.locator(`#admin-dead tr[data-job-id="${id}"]`);
  await deadRow(one).waitFor({ timeout: 10000 });
  assert.equal(await deadRow(one).locator('[data-testid=dead-owner]').textContent(), 'other');
  const reason = await deadRow(one).locator('[data-testid=dead-reason]').textContent();
  assert.ok(reason.length > 5 && reason !== '(none recorded)', reason);
  assert.equal(await page.locator('#stats').isVisible(), false, 'the user\'s own numbers give way');

  // The numbers are every owner's, GET /api/jobs/stats?all=true's (read
  // again until they agree: other jobs may end between).
  await waitFor('the Admin view shows every owner\'s numbers', async () => {
    const all = await stats(ADMIN_KEY, '?all=true');
    const shown = await page.locator('[data-testid=admin-stat-jobs]').textContent();
    const rate = await page.locator('[data-testid=admin-stat-success]').textContent();
    return shown === String(all.jobs) && rate === (all.success_rate == null ? '–' : `${(all.success_rate * 100).toFixed(1)}%`);
  }, 40000, 200); // the view reads them again every 30 s
  const own = await stats(ADMIN_KEY);
  assert.ok((await stats(ADMIN_KEY, '?all=true')).jobs > own.jobs, 'more than the admin\'s own owner\'s');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'admin-view.png'), fullPage: true });

  // Replay one: the row goes, the job leaves DEAD (its owner's key says so).
  await deadRow(one).locator('[data-testid=admin-replay]').click();
  await deadRow(one).waitFor({ state: 'detached', timeout: 10000 });
  await leftDead(one, OTHER_KEY);
  await page.locator('#admin-note').filter({ hasText: `job ${one} replayed` }).waitFor({ timeout: 10000 });

  // One owner's: the list keeps to it, and its replay-all replays them.
  assert.equal(await page.locator('#admin-replay-owner').isDisabled(), true);
  await page.fill('#admin-owner', 'other');
  await waitFor('only owner other\'s DEAD jobs', async () => {
    const owners = await page.locator('#admin-dead [data-testid=dead-owner]').allTextContents();
    return owners.length > 0 && owners.every((o) => o === 'other') && await deadRow(two).count() === 1;
  }, 10000, 100);
  await page.click('#admin-replay-owner');
  await page.locator('#admin-note').filter({ hasText: /job\(s\) replayed of other/ }).waitFor({ timeout: 10000 });
  await leftDead(two, OTHER_KEY);
  await deadRow(two).waitFor({ state: 'detached', timeout: 10000 });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the Admin view replays every owner\'s DEAD jobs', async () => {
  const id = await deadJob(OTHER_KEY);
  const { page, problems } = await openPage(ADMIN_KEY, { hash: '#/admin' });
  await page.locator(`#admin-dead tr[data-job-id="${id}"]`).waitFor({ timeout: 10000 });
  // It asks first: dismissed, nothing is sent; accepted, one request.
  const sent = [];
  page.on('request', (r) => { if (r.url().includes('/api/jobs/replay-dead')) sent.push(r.url()); });
  const asked = [];
  page.once('dialog', (d) => { asked.push(d.message()); d.dismiss(); });
  await page.click('#admin-replay-all');
  await waitFor('the question', () => asked.length === 1, 10000, 20);
  assert.match(asked[0], /every owner/);
  page.once('dialog', (d) => { asked.push(d.message()); d.accept(); });
  await page.click('#admin-replay-all');
  await page.locator('#admin-note').filter({ hasText: /^\d+ job\(s\) replayed$/ }).waitFor({ timeout: 10000 });
  assert.equal(asked.length, 2);
  assert.deepEqual(sent.map((u) => new URL(u).search), ['?all=true'], 'one replay, after the accepted question');
  await leftDead(id, OTHER_KEY);
  assert.deepEqual(problems, []);
  await page.close();
});

test('an ordinary key has no Admin tab, and #/admin is its jobs view', async () => {
  const { page, problems } = await openPage(API_KEY, { hash: '#/admin' });
  // The page marks the role once GET /api/me has answered.
  await page.locator('body[data-role=user]').waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#table-section').waitFor({ state: 'visible', timeout: 10000 });
  assert.equal(await page.locator('#admin-tab').isVisible(), false);
  assert.equal(await page.locator('#admin-view').isVisible(), false);
  assert.equal(await page.locator('#stats').isVisible(), true);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the Admin view is reached by keyboard, named, in contrast, and fits a phone', async () => {
  const id = await deadJob(OTHER_KEY);
  const { page, problems } = await openPage(ADMIN_KEY);
  await page.locator('#admin-tab').waitFor({ state: 'visible', timeout: 10000 });
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return { href: a.getAttribute('href'), testid: a.dataset.testid, outline: getComputedStyle(a).outlineStyle };
  });
  let f;
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    f = await focused();
    if (f.href === '#/admin') break;
  }
  assert.equal(f.href, '#/admin', 'the Admin tab is reached by Tab');
  assert.notEqual(f.outline, 'none', 'the focus is visible');
  await page.keyboard.press('Enter');
  const deadRow = page.locator(`#admin-dead tr[data-job-id="${id}"]`);
  await deadRow.waitFor({ timeout: 10000 });
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press('Tab');
    f = await focused();
    if (f.testid === 'admin-replay') break;
  }
  assert.equal(f.testid, 'admin-replay', 'a replay button is reached by Tab');
  assert.deepEqual(await page.evaluate(audit), { low: [], unnamed: [], landmarks: [] });

  await page.setViewportSize({ width: 390, height: 844 });
  const w = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    view: window.innerWidth,
    wide: [...document.querySelectorAll('body *')].filter((e) => e.checkVisibility()
      && e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}#${e.id}.${e.className}`),
  }));
  assert.ok(w.scroll <= w.view, `${w.scroll} > ${w.view}: ${w.wide.slice(0, 8).join(' ')}`);
  assert.equal(await deadRow.locator('td[data-label=Owner]')
    .evaluate((td) => getComputedStyle(td, '::before').content), '"Owner"');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'admin-view-phone.png'), fullPage: true });

  // Leaves no DEAD job of other's behind.
  const r = await fetch(`${GATEWAY}/api/jobs/${id}/replay`, { method: 'POST', headers: auth(ADMIN_KEY) });
  assert.equal(r.status, 200);
  await leftDead(id, OTHER_KEY);
  assert.deepEqual(problems, []);
  await page.close();
});
