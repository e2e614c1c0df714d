// The web UI over the whole API, in a real headless Chromium: the caller's
// jobs as a live table (filters, keyset pages, new jobs and transitions
// without a reload), a job's detail (timeline, row errors with the CSV
// report, the output's presigned link, cancel and replay buttons), the DEAD
// view, several files uploaded at once, the caller's numbers, the keyboard,
// contrast, and a phone-sized screen.  The page uses OTHER_KEY, whose
// owner only these tests fill much, so its lists stay short.
// Screenshots go to RAP_UI_SHOTS when it is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { auth, GATEWAY, OTHER_KEY, upload, waitFor } from '../integration/helpers.mjs';
import { cairoPdf } from '../integration/pdfs.mjs';
import { audit, launch } from './browser.mjs';

const KEY = OTHER_KEY;
const SHOTS = process.env.RAP_UI_SHOTS || '';
const errCode = (b) => b?.code; // RFC 9457 problem details (docs/errors.md)
let browser;
let tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rap-jobs-ui-'));
  browser = await launch();
  if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function call(method, p, body) {
  const res = await fetch(`${GATEWAY}${p}`, {
    method,
    headers: { ...auth(KEY), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// A job of the page's owner on a small upload; answers its id.
async function newJob(type, params, { text = 'a short text\n', bytes, filename = 'in.txt', max_attempts } = {}) {
  const up = await upload(bytes ?? Buffer.from(text), { filename, key: KEY });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const body = { object_key: up.body.object_key, type };
  if (params) body.params = params;
  if (max_attempts) body.max_attempts = max_attempts;
  const r = await call('POST', '/api/jobs', body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}

const jobIs = (id, ...states) => waitFor(`job ${id} in ${states.join('/')}`, async () => {
  const j = (await call('GET', `/api/jobs/${id}`)).body;
  return states.includes(j?.status) && j;
}, 60000, 100);

async function openPage({ hash = '', viewport, pageSize } = {}) {
  const page = await browser.newPage(viewport ? { viewport } : {});
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.addInitScript(([key, size]) => {
    localStorage.setItem('rap.apiKey', key);
    if (size) localStorage.setItem('rap.pageSize', String(size)); else localStorage.removeItem('rap.pageSize');
  }, [KEY, pageSize || 0]);
  await page.goto(`${GATEWAY}/${hash}`, { waitUntil: 'load' });
  await page.locator('[data-testid=ws-state]').filter({ hasText: 'live' }).waitFor({ timeout: 15000 });
  return { page, problems };
}

const row = (page, id) => page.locator(`#table-section tr[data-job-id="${id}"]`);
const shot = (page, name) => (SHOTS ? page.screenshot({ path: path.join(SHOTS, name), fullPage: true }) : null);

test('the page serves the tus-js-client build that package.json pins', async () => {
  const require = createRequire(import.meta.url);
  const pinned = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url))).dependencies['tus-js-client'];
  assert.equal(require('tus-js-client/package.json').version, pinned);
  const dist = fs.readFileSync(require.resolve('tus-js-client/dist/tus.min.js'));
  const served = Buffer.from(await (await fetch(`${GATEWAY}/vendor/tus.min.js`)).arrayBuffer());
  assert.ok(served.equals(dist), 'web/vendor/tus.min.js is the pinned dist file: copy it again after a bump');
});

test('the table shows the existing jobs; a new job and its transitions appear without a reload', async () => {
  const old = await newJob('noop');
  await jobIs(old, 'COMPLETED');
  const { page, problems } = await openPage();
  await row(page, old).waitFor({ timeout: 15000 });
  assert.equal(await row(page, old).locator('[data-testid=row-status]').textContent(), 'COMPLETED');
  // The first page is also read every 15 s; pushed events bring it sooner.
  const t0 = Date.now();
  const fresh = await newJob('test.fault', { mode: 'sleep', seconds: 2 });
  await row(page, fresh).waitFor({ timeout: 10000 });
  await row(page, fresh).locator('[data-testid=row-status]').filter({ hasText: 'COMPLETED' })
    .waitFor({ timeout: 30000 });
  assert.ok(Date.now() - t0 < 30000);
  await shot(page, 'job-table.png');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the state and type filters list only matching jobs', async () => {
  const done = await newJob('noop');
  const failed = await newJob('test.fault', { mode: 'permanent' });
  await jobIs(done, 'COMPLETED');
  await jobIs(failed, 'FAILED');
  const { page, problems } = await openPage();
  await row(page, failed).waitFor({ timeout: 15000 });
  await page.selectOption('#filter-state', 'FAILED');
  await row(page, done).waitFor({ state: 'detached', timeout: 10000 });
  await row(page, failed).waitFor({ timeout: 10000 });
  const states = await page.locator('#table-section [data-testid=row-status]').allTextContents();
  assert.ok(states.length > 0 && states.every((s) => s === 'FAILED'), states.join(','));
  await page.selectOption('#filter-state', '');
  await page.locator('#filter-type option[value="noop"]').waitFor({ state: 'attached', timeout: 10000 });
  await page.selectOption('#filter-type', 'noop');
  await row(page, failed).waitFor({ state: 'detached', timeout: 10000 });
  await row(page, done).waitFor({ timeout: 10000 });
  const types = await page.locator('#table-section td[data-label=Type]').allTextContents();
  assert.ok(types.length > 0 && types.every((t) => t === 'noop'), types.join(','));
  // The API's own type filter, and its refusal of a bad one.
  const api = await call('GET', '/api/jobs?type=noop&limit=5');
  assert.ok(api.body.jobs.every((j) => j.type === 'noop'));
  const bad = await call('GET', `/api/jobs?type=${'x'.repeat(65)}`);
  assert.equal(bad.status, 400);
  assert.equal(errCode(bad.body), 'bad_request');
  assert.deepEqual(problems, []);
  await page.close();
});

test('keyset pages: next and previous walk the pages the API gives', async () => {
  for (let i = 0; i < 3; i++) await newJob('noop');
  const api1 = (await call('GET', '/api/jobs?type=noop&limit=2')).body;
  const api2 = (await call('GET', `/api/jobs?type=noop&limit=2&after=${api1.next}`)).body;
  const { page, problems } = await openPage({ pageSize: 2 });
  await page.locator('#filter-type option[value="noop"]').waitFor({ state: 'attached', timeout: 10000 });
  await page.selectOption('#filter-type', 'noop');
  const ids = () => page.locator('#table-section tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.jobId));
  const shows = async (want) => waitFor(`rows ${want}`, async () => JSON.stringify(await ids()) === JSON.stringify(want),
    10000, 50);
  await shows(api1.jobs.map((j) => j.job_id));
  assert.equal(await page.locator('#table-section .page-prev').isDisabled(), true);
  await page.click('#table-section .page-next');
  await shows(api2.jobs.map((j) => j.job_id));
  assert.equal(await page.locator('#table-section .page-no').textContent(), 'page 2');
  await page.click('#table-section .page-prev');
  await shows(api1.jobs.map((j) => j.job_id));
  assert.deepEqual(problems, []);
  await page.close();
});

test('detail: timeline, result, row errors a page at a time with the CSV report', async () => {
  const lines = ['id,amount'];
  for (let r = 0; r < 40; r++) lines.push(r % 4 === 0 ? `x${r},1` : `${r},2`); // 10 bad ids
  for (let r = 0; r < 15; r++) lines.push(`${100 + r},-5`); // 15 below the minimum
  const id = await newJob('csv.validate', {
    columns: [{ name: 'id', type: 'integer' }, { name: 'amount', type: 'integer', min: 0 }],
  }, { text: `${lines.join('\n')}\n`, filename: 'rows.csv' });
  const job = await jobIs(id, 'COMPLETED', 'FAILED');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.result.rows_failed, 25);
  const { page, problems } = await openPage({ hash: `#/jobs/${id}` });
  await page.locator('#detail-status').filter({ hasText: 'COMPLETED' }).waitFor({ timeout: 10000 });
  const timeline = await page.locator('[data-testid=detail-event]').allTextContents();
  assert.equal(timeline[0].split(' · ')[0], '∅ → CREATED');
  assert.equal(timeline.at(-1).split(' · ')[0], 'PROCESSING → COMPLETED');
  assert.equal(await page.locator('#detail-result dd[data-field=rows_failed]').textContent(), '25');
  await page.locator('[data-testid=row-error]').first().waitFor({ timeout: 10000 });
  assert.equal(await page.locator('[data-testid=row-error]').count(), 20);
  assert.match(await page.locator('#errors-total').textContent(), /25 stored/);
  await page.click('#errors-next');
  await waitFor('the second page', async () => (await page.locator('[data-testid=row-error]').count()) === 5, 10000, 50);
  await page.click('#errors-prev');
  await waitFor('the first page again', async () => (await page.locator('[data-testid=row-error]').count()) === 20,
    10000, 50);
  // Cancel and replay are off for a finished job.
  assert.equal(await page.locator('#detail-cancel').isDisabled(), true);
  assert.equal(await page.locator('#detail-replay').isDisabled(), true);
  await shot(page, 'job-detail.png');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#errors-csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.equal(download.suggestedFilename(), `${id}-errors.csv`);
  assert.equal(csv.split('\r\n')[0], 'row,column,code,message,value');
  assert.equal(csv.trim().split('\r\n').length, 26);
  assert.deepEqual(problems, []);
  await page.close();
});

test('detail: a COMPLETED job\'s output as a presigned link that downloads it', async () => {
  const id = await newJob('file.inspect', null, { text: 'inspect me\n' });
  await jobIs(id, 'COMPLETED');
  const { page, problems } = await openPage({ hash: `#/jobs/${id}` });
  const link = page.locator('[data-testid=output-link]');
  await link.waitFor({ timeout: 10000 });
  const href = await link.getAttribute('href');
  assert.match(href, /^http:\/\/(127\.0\.0\.1|localhost)[:/]/);
  const res = await fetch(href);
  assert.equal(res.status, 200);
  assert.deepEqual(problems, []);
  await page.close();
});

test('detail: every output of a job that writes several is a link that downloads it, 20 a page', async () => {
  const texts = Array.from({ length: 25 }, (_, i) => `page ${i + 1} here`);
  const pdf = cairoPdf(path.join(tmp, 'pages.pdf'), texts);
  const id = await newJob('pdf.text', { per_page: true }, { bytes: pdf, filename: 'pages.pdf' });
  const job = await jobIs(id, 'COMPLETED', 'FAILED', 'DEAD');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job).slice(0, 1000));
  assert.equal(job.result.outputs.length, 26);
  const { page, problems } = await openPage({ hash: `#/jobs/${id}` });
  const links = page.locator('[data-testid=output-link]');
  const names = async () => links.evaluateAll((as) => as.map((a) => a.dataset.name));
  await waitFor('the first page of links', async () => (await links.count()) === 20, 10000, 50);
  const first = await names();
  assert.deepEqual(first.slice(0, 3), ['text.txt', 'page-00001.txt', 'page-00002.txt']);
  assert.equal((await (await fetch(await links.nth(2).getAttribute('href'))).text()).trim(), 'page 2 here');
  assert.equal(await page.locator('#outputs-prev').isDisabled(), true);
  await page.click('#outputs-next');
  await waitFor('the second page of links', async () => (await links.count()) === 6, 10000, 50);
  const second = await names();
  assert.deepEqual(second, ['page-00020.txt', 'page-00021.txt', 'page-00022.txt', 'page-00023.txt',
    'page-00024.txt', 'page-00025.txt']);
  const last = links.nth(5);
  assert.match(await last.textContent(), /Download page-00025\.txt/);
  const res = await fetch(await last.getAttribute('href'));
  assert.equal(res.status, 200);
  assert.equal((await res.text()).trim(), 'page 25 here');
  assert.equal(await page.locator('#outputs-next').isDisabled(), true);
  await page.click('#outputs-prev');
  await waitFor('the first page again', async () => (await links.count()) === 20, 10000, 50);
  // The result's long lists are cut in the result view.
  assert.match(await page.locator('#detail-result dd[data-field=outputs]').textContent(), /… \(\d+ characters\)$/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the cancel button cancels a running job; the replay button replays a DEAD one', async () => {
  const running = await newJob('test.fault', { mode: 'sleep', seconds: 60 });
  await jobIs(running, 'PROCESSING');
  const { page, problems } = await openPage({ hash: `#/jobs/${running}` });
  await page.locator('#detail-status').filter({ hasText: 'PROCESSING' }).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#detail-replay').isDisabled(), true);
  await page.click('#detail-cancel');
  await page.locator('#detail-status').filter({ hasText: 'CANCELLED' }).waitFor({ timeout: 10000 });
  assert.equal((await call('GET', `/api/jobs/${running}`)).body.status, 'CANCELLED');
  assert.equal(await page.locator('#detail-cancel').isDisabled(), true);

  const dead = await newJob('test.fault', { mode: 'until_replayed' }, { max_attempts: 1 });
  await jobIs(dead, 'DEAD');
  await page.goto(`${GATEWAY}/#/jobs/${dead}`);
  await page.locator('#detail-status').filter({ hasText: 'DEAD' }).waitFor({ timeout: 10000 });
  await page.click('#detail-replay');
  await page.locator('#detail-status').filter({ hasText: 'COMPLETED' }).waitFor({ timeout: 30000 });
  const events = await page.locator('[data-testid=detail-event]').allTextContents();
  assert.ok(events.some((e) => e.startsWith('DEAD → QUEUED')), events.join(' | '));
  assert.deepEqual(problems, []);
  await page.close();
});

test('a refused action says why', async () => {
  const id = await newJob('noop');
  await jobIs(id, 'COMPLETED');
  const { page, problems } = await openPage({ hash: `#/jobs/${id}` });
  await page.locator('#detail-status').filter({ hasText: 'COMPLETED' }).waitFor({ timeout: 10000 });
  // The button is off; the API is asked anyway, as a stale page would.
  await page.evaluate(() => { document.querySelector('#detail-cancel').disabled = false; });
  await page.click('#detail-cancel');
  await page.locator('#detail-error').filter({ hasText: '409' }).waitFor({ timeout: 10000 });
  assert.match(await page.locator('#detail-error').textContent(), /cancel refused: 409/);
  assert.deepEqual(problems.filter((p) => !p.includes('409')), []);
  await page.close();
});

test('the DEAD view lists a dead job with its reason; replay one, then all', async () => {
  const one = await newJob('test.fault', { mode: 'until_replayed' }, { max_attempts: 1 });
  const two = await newJob('test.fault', { mode: 'until_replayed' }, { max_attempts: 1 });
  await jobIs(one, 'DEAD');
  await jobIs(two, 'DEAD');
  const { page, problems } = await openPage({ hash: '#/dead' });
  const deadRow = (id) => page.locator(`#dead-view tr[data-job-id="${id}"]`);
  await deadRow(one).waitFor({ timeout: 10000 });
  const reason = await deadRow(one).locator('[data-testid=dead-reason]').textContent();
  assert.ok(reason.length > 5 && reason !== '(none recorded)', reason);
  await shot(page, 'dead-view.png');
  await deadRow(one).locator('[data-testid=dead-replay]').click();
  await deadRow(one).waitFor({ state: 'detached', timeout: 10000 });
  await jobIs(one, 'COMPLETED');
  await page.click('#replay-all');
  await page.locator('#dead-note').filter({ hasText: /replayed/ }).waitFor({ timeout: 10000 });
  await jobIs(two, 'COMPLETED');
  assert.deepEqual(problems, []);
  await page.close();
});

test('several files upload at once, each with its progress reaching 100%, a job each', async () => {
  const files = [1, 2, 3].map((n) => {
    const f = path.join(tmp, `multi-${n}.bin`);
    fs.writeFileSync(f, Buffer.alloc(n * 700 * 1024, n));
    return f;
  });
  const { page, problems } = await openPage();
  await page.evaluate(() => localStorage.setItem('rap.tus.chunk', String(512 * 1024)));
  await page.reload({ waitUntil: 'load' });
  await page.locator('[data-testid=ws-state]').filter({ hasText: 'live' }).waitFor({ timeout: 15000 });
  // Every value each bar took, as the page showed it.
  await page.evaluate(() => {
    window.seen = {};
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('.file-row')) {
        (window.seen[li.dataset.file] ||= new Set()).add(li.querySelector('progress').value);
      }
    }).observe(document.querySelector('#file-list'), { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.setInputFiles('#file', files);
  await page.click('#upload');
  await waitFor('three COMPLETED jobs', async () => (await page.locator('.job [data-testid=job-status]')
    .allTextContents()).filter((s) => s === 'COMPLETED').length === 3, 60000, 100);
  const bars = await page.locator('[data-testid=file-progress]').evaluateAll((ps) => ps.map((p) => p.value));
  assert.deepEqual(bars, [100, 100, 100]);
  const seen = await page.evaluate(() => Object.fromEntries(Object.entries(window.seen).map(([k, v]) => [k, [...v]])));
  // The 2.1 MB file went in 512 KiB chunks: its bar moved in steps.
  assert.ok(seen['multi-3.bin'].filter((v) => v > 0 && v < 100).length >= 2, JSON.stringify(seen));
  assert.equal(await page.locator('#upload-progress').evaluate((p) => p.value), 100);
  const notes = await page.locator('[data-testid=file-note]').allTextContents();
  assert.ok(notes.every((n) => /^100% · job [0-9a-f-]{36}$/.test(n)), notes.join(' | '));
  assert.deepEqual(problems, []);
  await page.close();
});

test('keyboard only: tab to a job, open it with Enter, cancel it with Space', async () => {
  const id = await newJob('test.fault', { mode: 'sleep', seconds: 60 });
  await jobIs(id, 'PROCESSING');
  const { page, problems } = await openPage();
  await row(page, id).waitFor({ timeout: 15000 });
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return { href: a.getAttribute('href'), id: a.id, outline: getComputedStyle(a).outlineStyle };
  });
  let f;
  for (let i = 0; i < 100; i++) {
    await page.keyboard.press('Tab');
    f = await focused();
    if (f.href === `#/jobs/${id}`) break;
  }
  assert.equal(f.href, `#/jobs/${id}`, 'the job link is reached by Tab');
  assert.notEqual(f.outline, 'none', 'the focus is visible');
  await page.keyboard.press('Enter');
  await page.locator('#detail-status').filter({ hasText: 'PROCESSING' }).waitFor({ timeout: 10000 });
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    f = await focused();
    if (f.id === 'detail-cancel') break;
  }
  assert.equal(f.id, 'detail-cancel', 'the cancel button is reached by Tab');
  assert.notEqual(f.outline, 'none', 'the focus is visible');
  await page.keyboard.press('Space');
  await page.locator('#detail-status').filter({ hasText: 'CANCELLED' }).waitFor({ timeout: 10000 });
  await jobIs(id, 'CANCELLED');
  assert.deepEqual(problems, []);
  await page.close();
});

test('accessible: named controls, landmarks, contrast of every view', async () => {
  const dead = await newJob('test.fault', { mode: 'transient', failures: 9 }, { max_attempts: 1 });
  await jobIs(dead, 'DEAD');
  const { page, problems } = await openPage();
  const shown = { '#/jobs': '#table-section tbody tr', [`#/jobs/${dead}`]: '#detail-timeline li',
    '#/dead': '#dead-view tbody tr' };
  for (const [hash, sel] of Object.entries(shown)) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.locator(sel).first().waitFor({ timeout: 10000 });
    const r = await page.evaluate(audit);
    assert.deepEqual(r, { low: [], unnamed: [], landmarks: [] }, hash);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('on a phone-sized screen (390x844) nothing scrolls sideways and the table collapses', async () => {
  const id = await newJob('file.inspect', null, { text: 'phone\n' });
  await jobIs(id, 'COMPLETED');
  const { page, problems } = await openPage({ viewport: { width: 390, height: 844 } });
  for (const hash of ['#/jobs', `#/jobs/${id}`, '#/dead']) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.locator(hash === '#/jobs' ? '#table-section tbody tr' : hash === '#/dead' ? '#dead-title' : '#detail-timeline li')
      .first().waitFor({ timeout: 10000 });
    const w = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      view: window.innerWidth,
      wide: [...document.querySelectorAll('body *')].filter((e) => e.checkVisibility()
        && e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}#${e.id}.${e.className}`),
    }));
    assert.ok(w.scroll <= w.view, `${hash}: ${w.scroll} > ${w.view}: ${w.wide.slice(0, 8).join(' ')}`);
  }
  await page.evaluate(() => { location.hash = '#/jobs'; });
  await row(page, id).waitFor({ timeout: 10000 });
  // Collapsed: the header row is out of sight, a cell shows its label.
  assert.equal(await page.locator('#job-table thead').evaluate((t) => t.getBoundingClientRect().height <= 1), true);
  assert.equal(await row(page, id).locator('td[data-label=Type]')
    .evaluate((td) => getComputedStyle(td, '::before').content), '"Type"');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'job-table-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the numbers atop the page are GET /api/jobs/stats\'s', async () => {
  const id = await newJob('noop');
  await jobIs(id, 'COMPLETED');
  const s = (await call('GET', '/api/jobs/stats')).body;
  assert.equal(s.window_hours, 24);
  assert.ok(s.jobs >= 1 && s.by_state.COMPLETED >= 1, JSON.stringify(s));
  const noop = s.by_type.find((t) => t.type === 'noop');
  assert.ok(noop && noop.count >= 1 && noop.avg_seconds >= 0 && noop.p95_seconds >= 0, JSON.stringify(s));
  assert.ok(s.success_rate > 0 && s.success_rate <= 1 && Math.abs(s.success_rate + s.failure_rate - 1) < 0.001);
  assert.ok(s.uploads.count >= 1 && s.uploads.bytes >= 1);
  const { page, problems } = await openPage();
  // Read again until the page and the API agree (other jobs may end between).
  await waitFor('the page shows the API\'s numbers', async () => {
    const now = (await call('GET', '/api/jobs/stats')).body;
    const shown = await page.locator('[data-testid=stat-jobs]').textContent();
    const rate = await page.locator('[data-testid=stat-success]').textContent();
    return shown === String(now.jobs) && rate === `${(now.success_rate * 100).toFixed(1)}%`;
  }, 15000, 200);
  assert.equal(await page.locator('#stats-types tr[data-type=noop] td').first().textContent(),
    String((await call('GET', '/api/jobs/stats')).body.by_type.find((t) => t.type === 'noop').count));
  // The window and its bounds.
  assert.equal((await call('GET', '/api/jobs/stats?hours=1')).body.window_hours, 1);
  for (const bad of ['0', '721', 'x']) {
    const r = await call('GET', `/api/jobs/stats?hours=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal(errCode(r.body), 'bad_request');
  }
  assert.deepEqual(problems, []);
  await page.close();
});
