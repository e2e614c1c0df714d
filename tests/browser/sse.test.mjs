// Server-Sent Events in a real headless Chromium (issue 16, point 4): a
// plain `new EventSource(url)` in a page of the gateway's origin, the key
// in the query (an EventSource cannot send headers), watches a job reach
// COMPLETED, on the job's own stream and on the owner's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';

const GATEWAY = process.env.RAP_GATEWAY_URL || 'http://127.0.0.1:8080';
const API_KEY = process.env.RAP_TEST_API_KEY || 'dev-key';
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function noopJob() {
  const form = new FormData();
  form.append('file', new Blob(['sse in a browser']), 'data.bin');
  const up = await fetch(`${GATEWAY}/api/uploads`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: form });
  assert.equal(up.status, 201, await up.clone().text());
  const res = await fetch(`${GATEWAY}/api/jobs`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ object_key: (await up.json()).object_key, type: 'noop' }),
  });
  assert.equal(res.status, 202);
  return (await res.json()).job_id;
}

// In the page: an EventSource on url, its job.status events kept in
// window.sse[name], resolved once it is open.
function openSource(page, name, url) {
  return page.evaluate(({ name, url }) => new Promise((resolve, reject) => {
    window.sse ??= {};
    const got = window.sse[name] = [];
    const es = new EventSource(url);
    window.sse[`${name}-source`] = es;
    es.addEventListener('job.status', (e) => got.push({ lastEventId: e.lastEventId, ...JSON.parse(e.data) }));
    es.onopen = () => resolve();
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) reject(new Error(`${url}: closed`)); };
  }), { name, url });
}

test('a plain EventSource watches a job reach COMPLETED, on the owner\'s stream and on the job\'s', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  try {
    await page.goto(GATEWAY, { waitUntil: 'load' });
    const key = encodeURIComponent(API_KEY);
    await openSource(page, 'owner', `/api/events?api_key=${key}`);
    const id = await noopJob();
    await openSource(page, 'job', `/api/jobs/${id}/events?api_key=${key}`);
    for (const name of ['owner', 'job']) {
      await page.waitForFunction(({ name, id }) => window.sse[name].some((d) => d.job_id === id && d.to === 'COMPLETED'),
        { name, id }, { timeout: 60000 });
    }
    const { owner, job } = await page.evaluate(() => ({ owner: window.sse.owner, job: window.sse.job }));
    const jobOnly = job.filter((d) => d.job_id === id);
    assert.equal(jobOnly.length, job.length, 'the job\'s stream tells that job only');
    assert.equal(jobOnly[0].to, 'CREATED', 'the job\'s stream starts with its history');
    for (const d of job) assert.equal(d.lastEventId, String(d.event_id), 'lastEventId is the event id');
    const ownerIds = owner.filter((d) => d.job_id === id).map((d) => d.event_id);
    assert.equal(new Set(ownerIds).size, ownerIds.length, 'none twice');
    assert.ok(ownerIds.length >= 2, 'the owner\'s stream told the job live');
    assert.deepEqual(problems, []);
  } finally {
    await page.evaluate(() => { for (const v of Object.values(window.sse ?? {})) v.close?.(); }).catch(() => {});
    await page.close();
  }
});
