// The web UI in a real headless Chromium: pick a file, upload it with the
// progress bar, and watch the job reach COMPLETED by WebSocket push.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, watchPatches } from './browser.mjs';

const GATEWAY = process.env.RAP_GATEWAY_URL || 'http://127.0.0.1:8080';
let browser;
let tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rap-ui-'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function openPage() {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    try { frames.push(JSON.parse(f.payload)); } catch { /* binary */ }
  }));
  await page.goto(GATEWAY, { waitUntil: 'load' });
  await page.locator('[data-testid=ws-state]').filter({ hasText: 'live' }).waitFor({ timeout: 15000 });
  return { page, problems, frames };
}

test('upload with progress, then the job turns COMPLETED live', async () => {
  const data = crypto.randomBytes(3 * 1024 * 1024 + 17);
  const file = path.join(tmp, 'sample.bin');
  fs.writeFileSync(file, data);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  const { page, problems, frames } = await openPage();

  await page.setInputFiles('#file', file);
  await page.click('#upload');
  const status = page.locator('[data-testid=job-status]').first();
  await status.filter({ hasText: 'COMPLETED' }).waitFor({ timeout: 60000 });

  assert.equal(await page.locator('#upload-progress').evaluate((p) => p.value), 100);
  const jobId = await page.locator('.job').first().getAttribute('data-job-id');
  const timeline = await page.locator('[data-testid=timeline-item]').allTextContents();
  const order = timeline.map((t) => t.split(' · ')[0]);
  assert.ok(order.includes('QUEUED → PROCESSING') || order.includes('CREATED → PROCESSING'), order.join(' | '));
  assert.equal(order.at(-1), 'PROCESSING → COMPLETED', order.join(' | '));
  assert.equal(order[0], '∅ → CREATED');

  // The COMPLETED transition reached the page as a pushed WebSocket frame.
  assert.ok(frames.some((f) => f.type === 'job.status' && f.job_id === jobId && f.to === 'COMPLETED'),
    JSON.stringify(frames));
  const shown = await page.locator('[data-testid=job-result] dd[data-field=sha256]').textContent();
  assert.equal(shown, sha);
  assert.equal(await page.locator('[data-testid=job-result] dd[data-field=size]').textContent(),
    String(data.length));
  await page.screenshot({ path: path.join(tmp, 'completed.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a wrong API key shows the 401 message and the page keeps working', async () => {
  const file = path.join(tmp, 'small.txt');
  fs.writeFileSync(file, 'hello');
  const { page, problems } = await openPage();
  await page.fill('#api-key', 'wrong-key');
  await page.setInputFiles('#file', file);
  await page.click('#upload');
  const err = page.locator('[data-testid=error]');
  await err.filter({ hasText: '401' }).waitFor({ timeout: 15000 });
  assert.match(await err.textContent(), /unauthorized: unknown API key/);
  assert.equal(await page.locator('#upload').isDisabled(), false);
  // The 401 answer itself is logged by Chromium as a failed resource.
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
  await page.close();
});

async function useSmallChunks(page) {
  await page.evaluate(() => localStorage.setItem('rap.tus.chunk', String(1024 * 1024)));
  await page.reload({ waitUntil: 'load' });
}

test('the web upload goes over tus: a dropped PATCH is retried from the stored offset', async () => {
  const data = crypto.randomBytes(5 * 1024 * 1024 + 3);
  const file = path.join(tmp, 'cut.bin');
  fs.writeFileSync(file, data);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  const { page, problems } = await openPage();
  await useSmallChunks(page);
  const offsets = await watchPatches(page, { cut: 3 });
  await page.setInputFiles('#file', file);
  await page.click('#upload');
  await page.locator('[data-testid=job-status]').first().filter({ hasText: 'COMPLETED' }).waitFor({ timeout: 60000 });
  const MiB = 1024 * 1024;
  assert.deepEqual(offsets.slice(0, 4), [0, MiB, 2 * MiB, 2 * MiB], 'the cut PATCH was sent again from its offset');
  assert.equal(offsets.at(-1), 5 * MiB);
  assert.equal(await page.locator('[data-testid=job-result] dd[data-field=sha256]').textContent(), sha);
  assert.deepEqual(problems.filter((p) => !p.includes('ERR_CONNECTION_RESET')), []);
  await page.close();
});

test('a reload mid-upload: choosing the same file again resumes it, not from 0', async () => {
  const data = crypto.randomBytes(4 * 1024 * 1024 + 11);
  const file = path.join(tmp, 'reload.bin');
  fs.writeFileSync(file, data);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  const { page, problems } = await openPage();
  await useSmallChunks(page);
  const first = await watchPatches(page, { hold: 3 });
  await page.setInputFiles('#file', file);
  await page.click('#upload');
  await first.reached(3); // two went through, the third hangs
  // The reload cancels the held PATCH in the browser; it never reaches the
  // server. (Removing the route first would let it go on, racing the
  // resumed upload.) The next route, installed later, handles the PATCHes
  // of the reloaded page.
  await page.reload({ waitUntil: 'load' });
  await page.locator('[data-testid=ws-state]').filter({ hasText: 'live' }).waitFor({ timeout: 15000 });
  // What the server stored, as HEAD tells it.
  const url = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('rap.tus:'))?.[1]);
  assert.ok(url, 'the page recorded its upload');
  const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', Authorization: 'Bearer dev-key' } });
  const stored = Number(head.headers.get('upload-offset'));
  assert.ok(stored >= 2 * 1024 * 1024 && stored < data.length, `stored ${stored}`);
  const again = await watchPatches(page);
  await page.setInputFiles('#file', file);
  await page.click('#upload');
  await page.locator('[data-testid=job-status]').first().filter({ hasText: 'COMPLETED' }).waitFor({ timeout: 60000 });
  assert.equal(again[0], stored, `resumed at the stored offset: ${again.join(', ')}`);
  assert.equal(await page.locator('[data-testid=job-result] dd[data-field=sha256]').textContent(), sha);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('rap.tus:')).length), 0,
    'the finished upload is forgotten');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a running job shows its stage, percentage and ETA live, from job.progress pushes', async () => {
  const file = path.join(tmp, 'progress.bin');
  fs.writeFileSync(file, crypto.randomBytes(256 * 1024));
  const { page, problems, frames } = await openPage();
  // The select lists the enabled types from GET /api/job-types.
  await page.locator('#job-type option[value="test.sandbox"]').waitFor({ state: 'attached', timeout: 15000 });
  await page.selectOption('#job-type', 'test.sandbox');
  assert.match(await page.locator('#job-type-help').textContent(), /mode/);
  await page.fill('#job-params', '{"mode":"progress","seconds":6}');
  await page.setInputFiles('#file', file);
  await page.click('#upload');
  const stage = page.locator('[data-testid=job-stage]').first();
  // A stage, a percentage and an estimated end, while the job runs.
  await stage.filter({ hasText: /(download|parse|validate|write) · \d+% · .*done about/ })
    .waitFor({ timeout: 30000 });
  await page.locator('[data-testid=job-status]').first().filter({ hasText: 'COMPLETED' })
    .waitFor({ timeout: 60000 });
  assert.equal(await page.locator('[data-testid=job-progress]').first().isHidden(), true,
    'the progress line goes once the job ended');
  const jobId = await page.locator('.job').first().getAttribute('data-job-id');
  assert.ok(frames.some((f) => f.type === 'job.progress' && f.job_id === jobId && f.stage),
    'progress reached the page as pushed job.progress frames');
  assert.deepEqual(problems, []);
  await page.close();
});

test('params that are not JSON are refused in the page, before any upload', async () => {
  const file = path.join(tmp, 'tiny.txt');
  fs.writeFileSync(file, 'x');
  const { page } = await openPage();
  await page.fill('#job-params', '{"mode":');
  await page.setInputFiles('#file', file);
  await page.click('#upload');
  await page.locator('[data-testid=error]').filter({ hasText: 'not JSON' }).waitFor({ timeout: 10000 });
  await page.close();
});
