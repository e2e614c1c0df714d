// The web UI in a real headless Chromium: pick a file, upload it with the
// progress bar, and watch the job reach COMPLETED by WebSocket push.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const GATEWAY = process.env.RAP_GATEWAY_URL || 'http://127.0.0.1:8080';
const CHROMIUM = process.env.RAP_CHROMIUM || '/usr/bin/chromium';
let browser;
let tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rap-ui-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
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
