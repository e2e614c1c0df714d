// image.thumbnail end to end (issue 14): images made during the run by the
// vips command (Debian's libvips-tools), uploaded, thumbnailed in the
// sandboxed child on the image pool's queue, the outputs fetched back and
// measured with vipsheader. The hostile ones (a decompression bomb, a
// truncated JPEG) each get their documented outcome, and the next image
// job still completes: the worker survives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { GATEWAY, auth, createJob, getJob, jobEnded, upload, waitFor } from './helpers.mjs';

const WORKERS = Number(process.env.RAP_WORKERS || 2);

const SCHEMA = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '..', '..', 'proto', 'schemas', 'thumbnail-result.json'), 'utf8'));
const checkResult = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);
const assertResult = (r) => assert.ok(checkResult(r), JSON.stringify(checkResult.errors));

let dir;
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'rap-image-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name) => path.join(dir, name);
const vips = (...args) => execFileSync('vips', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const header = (p, field) => execFileSync('vipsheader', ['-f', field, p]).toString().trim();

// A w x h colour gradient (three bands, so JPEG and WebP keep colour),
// written by vips to `name` (the suffix picks the format; [strip] leaves
// vips's own EXIF block out).
function gradient(name, w, h, options = '') {
  const v = file(`${name}.v`);
  vips('xyz', v, String(w), String(h));
  vips('extract_band', v, file(`${name}.b.v`), '0', '--n', '2');
  vips('bandjoin_const', file(`${name}.b.v`), file(`${name}.c.v`), '128');
  vips('cast', file(`${name}.c.v`), file(`${name}.u.v`), 'uchar');
  vips('copy', file(`${name}.u.v`), `${file(name)}${options}`);
  return file(name);
}

// An APP1 EXIF block with one tag, Orientation (0x0112) = value, big-endian
// TIFF: what a camera writes for a photo taken on its side.
function exifOrientation(value) {
  const tiff = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, // MM, 42, IFD0 at 8
    0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, value, 0, 0, // one entry: SHORT value
    0, 0, 0, 0]); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xe1]), len, body]);
}

// A JPEG of w x h pixels (as stored) tagged with EXIF orientation 6: shown
// upright, it is h x w.
function jpegOnItsSide(w, h) {
  const bytes = readFileSync(gradient('side.jpg', w, h, '[strip,Q=90]'));
  assert.equal(bytes.readUInt16BE(0), 0xffd8);
  const tagged = Buffer.concat([bytes.subarray(0, 2), exifOrientation(6), bytes.subarray(2)]);
  writeFileSync(file('side-6.jpg'), tagged);
  assert.equal(header(file('side-6.jpg'), 'orientation'), '6', 'vips reads the orientation back');
  return tagged;
}

async function start(bytes, params, filename) {
  const up = await upload(bytes, { filename });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const res = await createJob({ object_key: up.body.object_key, type: 'image.thumbnail', params });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

const run = async (bytes, params, filename) => jobEnded(await start(bytes, params, filename), 120000);

// The job's first output (GET /api/jobs/{id}/output, presigned), saved as name.
async function firstOutput(id, name) {
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/output`, { headers: auth() });
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await (await fetch((await res.json()).url)).arrayBuffer());
  writeFileSync(file(name), bytes);
  return bytes;
}

// Metadata blocks by format: JPEG's APP1 Exif, WebP's EXIF chunk, PNG's eXIf.
const hasExif = (b) => b.includes(Buffer.from('Exif\0\0', 'latin1')) || b.includes(Buffer.from('EXIF'))
  || b.includes(Buffer.from('eXIf'));

// The worker survives a hostile file: the next image job completes.
async function nextImageJobCompletes() {
  const job = await run(readFileSync(gradient('next.png', 40, 30)), { sizes: [{ width: 20, height: 20 }] },
    'next.png');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.result.thumbnails[0].width, 20);
  assert.equal(job.result.thumbnails[0].height, 15);
}

test('GET /api/job-types lists image.thumbnail on the image pool with its schema', async () => {
  const res = await fetch(`${GATEWAY}/api/job-types/image.thumbnail`, { headers: auth() });
  assert.equal(res.status, 200);
  const t = await res.json();
  assert.equal(t.pool, 'image');
  assert.equal(t.queue, 'jobs.work.image');
  assert.equal(t.input, 'file');
  assert.deepEqual(t.content, ['image/jpeg', 'image/png', 'image/webp']);
  assert.deepEqual(t.params.properties.format.enum, ['jpeg', 'webp', 'png']);
});

test('a JPEG with EXIF orientation 6 is thumbnailed upright, metadata stripped', async () => {
  const bytes = jpegOnItsSide(640, 480);
  const job = await run(bytes, { sizes: [{ width: 200, height: 200 }, { width: 100, height: 100 }] },
    'side.jpg');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const r = job.result;
  assertResult(r);
  assert.equal(r.width, 640);
  assert.equal(r.height, 480);
  assert.equal(r.orientation, 6);
  assert.equal(r.format, 'jpeg');
  assert.equal(r.stripped, true);
  // Upright the photo is 480 x 640: 150 x 200 and 75 x 100 in the boxes.
  assert.deepEqual(r.thumbnails.map((t) => [t.name, t.width, t.height, t.format]), [
    ['thumb-200x200.jpg', 150, 200, 'jpeg'],
    ['thumb-100x100.jpg', 75, 100, 'jpeg'],
  ]);
  assert.deepEqual(r.outputs.map((o) => [o.name, o.key, o.bytes, o.content_type]),
    r.thumbnails.map((t) => [t.name, `processed/${job.job_id}/${t.name}`, t.bytes, 'image/jpeg']));
  assert.equal(r.output_key, `processed/${job.job_id}/thumb-200x200.jpg`);
  const out = await firstOutput(job.job_id, 'out-side.jpg');
  assert.equal(out.length, r.thumbnails[0].bytes);
  assert.equal(header(file('out-side.jpg'), 'width'), '150');
  assert.equal(header(file('out-side.jpg'), 'height'), '200');
  assert.ok(!hasExif(out), 'no EXIF block in the thumbnail');
  assert.ok(hasExif(bytes), 'the input had one');
});

test('strip false keeps the EXIF block, upright with orientation 1', async () => {
  const job = await run(jpegOnItsSide(640, 480), { strip: false, sizes: [{ width: 64, height: 64 }] },
    'side.jpg');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const out = await firstOutput(job.job_id, 'out-kept.jpg');
  assert.ok(hasExif(out));
  assert.equal(header(file('out-kept.jpg'), 'width'), '48');
  assert.equal(header(file('out-kept.jpg'), 'height'), '64');
  assert.equal(header(file('out-kept.jpg'), 'orientation'), '1');
});

test('a PNG thumbnailed as WebP, a WebP as PNG, never enlarged', async () => {
  let job = await run(readFileSync(gradient('in.png', 800, 400)),
    { format: 'webp', quality: 70, sizes: [{ width: 300, height: 300 }, { width: 2000, height: 2000 }] },
    'in.png');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assertResult(job.result);
  assert.equal(job.result.format, 'png');
  assert.deepEqual(job.result.thumbnails.map((t) => [t.name, t.width, t.height, t.content_type]), [
    ['thumb-300x300.webp', 300, 150, 'image/webp'],
    ['thumb-2000x2000.webp', 800, 400, 'image/webp'],
  ]);
  let out = await firstOutput(job.job_id, 'out.webp');
  assert.equal(out.subarray(0, 4).toString(), 'RIFF');
  assert.equal(out.subarray(8, 12).toString(), 'WEBP');
  assert.equal(header(file('out.webp'), 'width'), '300');
  assert.ok(!hasExif(out));

  job = await run(readFileSync(gradient('in.webp', 500, 1000)),
    { format: 'png', sizes: [{ width: 128, height: 128 }] }, 'in.webp');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.result.format, 'webp');
  assert.deepEqual(job.result.thumbnails.map((t) => [t.width, t.height, t.format]), [[64, 128, 'png']]);
  out = await firstOutput(job.job_id, 'out.png');
  assert.equal(out.subarray(1, 4).toString(), 'PNG');
  assert.equal(header(file('out.png'), 'height'), '128');
  assert.ok(!hasExif(out));
});

test('params outside the schema are 422, content that is not an image 415', async () => {
  const up = await upload(readFileSync(gradient('p.png', 10, 10)), { filename: 'p.png' });
  for (const [params, field] of [
    [{ sizes: [{ width: 0, height: 10 }] }, 'params.sizes[0].width'],
    [{ sizes: [{ width: 5000, height: 10 }] }, 'params.sizes[0].width'],
    [{ format: 'gif' }, 'params.format'],
    [{ quality: 101 }, 'params.quality'],
    [{ sizes: [] }, 'params.sizes'],
  ]) {
    const res = await createJob({ object_key: up.body.object_key, type: 'image.thumbnail', params });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.code, 'invalid_params');
    assert.ok(res.body.detail.startsWith(field), res.body.detail);
  }
  const text = await upload(Buffer.from('id,name\n1,a\n'), { filename: 'fake.jpg' });
  const res = await createJob({ object_key: text.body.object_key, type: 'image.thumbnail' });
  assert.equal(res.status, 415, JSON.stringify(res.body));
});

test('a decompression bomb (30000 x 30000 PNG) is refused from its header, then the next job completes', async () => {
  vips('black', file('bomb.png'), '30000', '30000');
  const bytes = readFileSync(file('bomb.png'));
  assert.ok(bytes.length < 2 * 1024 * 1024, `the bomb is small on disk: ${bytes.length}`);
  const t0 = Date.now();
  const job = await run(bytes, {}, 'bomb.png');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'too_large: the image is 30000x30000, 900000000 pixels, over the limit of '
    + '100000000 pixels (refused from its header, before decoding)');
  assert.equal(job.attempt, 1, 'a permanent failure: never retried');
  assert.ok(Date.now() - t0 < 30000, 'refused at once');
  await nextImageJobCompletes();
});

test('a truncated JPEG fails permanently with the decoder\'s reason, then the next job completes', async () => {
  const whole = readFileSync(gradient('whole.jpg', 1200, 900, '[Q=95]'));
  const job = await run(whole.subarray(0, Math.floor(whole.length / 2)), {}, 'cut.jpg');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'invalid_input: the image is truncated or damaged: '
    + 'VipsJpeg: Premature end of input file');
  assert.equal(job.attempt, 1);
  await nextImageJobCompletes();
});

test('a PNG whose compressed pixels are damaged fails with the reason, then the next job completes', async () => {
  // The signature and IHDR are intact (libmagic says image/png, the header
  // reads); the zlib stream of the IDAT chunk is overwritten.
  const bytes = Buffer.from(readFileSync(gradient('damaged.png', 300, 300)));
  const idat = bytes.indexOf('IDAT');
  assert.ok(idat > 0);
  bytes.fill(0x41, idat + 20, idat + 220);
  const job = await run(bytes, {}, 'damaged.png');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^invalid_input: the image is truncated or damaged: \S/);
  assert.equal(job.attempt, 1);
  await nextImageJobCompletes();
});

// Point 5 of issue 14: images have a pool of their own, so a long job of
// another pool on every worker never holds up a thumbnail.
test('a long data job on every worker does not hold up a thumbnail', async () => {
  // A pattern that backtracks to its match limit on every value: tens of
  // seconds per job (as in registry.test.mjs).
  const csv = Buffer.from(`v\n${`${'a'.repeat(40)}\n`.repeat(5000)}`);
  const long = [];
  for (let i = 0; i < WORKERS; i++) {
    const up = await upload(csv, { filename: `long-${i}.csv` });
    const res = await createJob({ object_key: up.body.object_key, type: 'csv.validate',
      params: { columns: [{ name: 'v', pattern: '(a+)+[bc]' }] } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    long.push(res.body.job_id);
  }
  try {
    await waitFor('a long job running on every worker', async () => {
      const jobs = await Promise.all(long.map(async (id) => (await getJob(id)).body));
      return jobs.every((j) => j.status === 'PROCESSING');
    }, 60000, 100);
    const id = await start(readFileSync(gradient('busy.jpg', 1600, 1200)), { sizes: [{ width: 160, height: 160 }] },
      'busy.jpg');
    const job = await jobEnded(id, 30000);
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
    assert.deepEqual([job.result.thumbnails[0].width, job.result.thumbnails[0].height], [160, 120]);
    for (const l of long) {
      const j = (await getJob(l)).body;
      assert.equal(j.status, 'PROCESSING', `long job ${l} ended before the thumbnail: ${j.status}`);
    }
  } finally {
    for (const l of long) await fetch(`${GATEWAY}/api/jobs/${l}/cancel`, { method: 'POST', headers: auth() });
  }
  for (const l of long) {
    await waitFor(`long job ${l} cancelled`, async () => (await getJob(l)).body.status === 'CANCELLED', 10000, 100);
  }
});
