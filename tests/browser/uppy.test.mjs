// Uppy, unchanged, in a real headless Chromium: the published `uppy`
// bundle (Uppy core with its Tus plugin, which runs tus-js-client inside)
// uploads a file to upload-api through the gateway in chunks; one PATCH is
// dropped as by a broken connection and Uppy resumes from the offset the
// server stored. The object's sha256 must match the file's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY, idOf, randomBytes, sha256, uploadRecord } from '../integration/helpers.mjs';
import { launch, watchPatches } from './browser.mjs';

const MiB = 1024 * 1024;
const UPPY = createRequire(import.meta.url).resolve('uppy/dist/uppy.min.js');
let browser;
let tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rap-uppy-'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('Uppy (core + Tus plugin) uploads in chunks; a dropped PATCH resumes from the stored offset', async () => {
  const data = randomBytes(11 * MiB + 5);
  const file = path.join(tmp, 'uppy clip.bin');
  fs.writeFileSync(file, data);
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  // Any page of the gateway's origin will do: the API is same-origin there.
  await page.goto(`${GATEWAY}/`, { waitUntil: 'load' });
  await page.addScriptTag({ path: UPPY });
  const offsets = await watchPatches(page, { cut: 2 });
  await page.evaluate(() => {
    const input = Object.assign(document.createElement('input'), { type: 'file', id: 'uppy-input' });
    document.body.append(input);
  });
  await page.setInputFiles('#uppy-input', file);

  const result = await page.evaluate(async (chunkSize) => {
    const { Uppy, Tus } = globalThis.Uppy;
    const uppy = new Uppy({ autoProceed: false });
    uppy.use(Tus, {
      endpoint: '/api/files/',
      headers: { Authorization: 'Bearer dev-key' },
      chunkSize,
      retryDelays: [100, 300, 1000, 2000, 4000],
    });
    let progressEvents = 0;
    uppy.on('upload-progress', () => { progressEvents++; });
    const f = document.querySelector('#uppy-input').files[0];
    uppy.addFile({ name: f.name, type: 'application/octet-stream', data: f });
    const r = await uppy.upload();
    return {
      urls: r.successful.map((x) => x.uploadURL),
      failed: r.failed.map((x) => String(x.error)),
      progressEvents,
    };
  }, 4 * MiB);

  assert.deepEqual(result.failed, []);
  assert.equal(result.urls.length, 1);
  assert.ok(result.progressEvents > 0, 'Uppy reported progress');
  // The second PATCH was dropped; Uppy asked HEAD and sent it again from
  // the 4 MiB the server had stored (kept as a tail: parts are 8 MiB).
  assert.deepEqual([...offsets], [0, 4 * MiB, 4 * MiB, 8 * MiB], `PATCH offsets ${offsets.join(', ')}`);
  const info = await uploadRecord(idOf(result.urls[0]));
  assert.equal(info.state, 'COMPLETE', JSON.stringify(info));
  assert.equal(info.size, data.length);
  assert.equal(info.sha256, sha256(data));
  // Uppy's metadata reached the upload (the name sanitized: no spaces).
  assert.equal(info.filename, 'uppy_clip.bin');
  assert.deepEqual(problems.filter((p) => !p.includes('ERR_CONNECTION_RESET')), []);
  await page.close();
});
