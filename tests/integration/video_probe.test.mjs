// video.probe end to end (issue 14): videos made during the run by the
// ffmpeg command (Debian's ffmpeg), uploaded, probed in the sandboxed child
// on the video pool's queue, the poster fetched back and measured. The
// hostile ones (an MP4 cut in half, one whose header or index is
// overwritten, a frame size far over the limit) each get their documented
// outcome, and the next video job still completes: the worker survives.
// And a burst of slow videos never delays a thumbnail (point 5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { GATEWAY, assertError, auth, createJob, getJob, jobEnded, upload, waitFor } from './helpers.mjs';

const WORKERS = Number(process.env.RAP_WORKERS || 2);

const SCHEMA = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '..', '..', 'proto', 'schemas', 'video-probe-result.json'), 'utf8'));
const checkResult = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);
const assertResult = (r) => assert.ok(checkResult(r), JSON.stringify(checkResult.errors));

let dir;
const file = (name) => path.join(dir, name);
const ffmpeg = (...args) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args],
  { stdio: ['ignore', 'ignore', 'pipe'] });
const encoders = () => execFileSync('ffmpeg', ['-hide_banner', '-encoders']).toString();
let h264 = 'libx264';

// A test pattern of size w x h at 25 fps for s seconds with a sine tone,
// H.264 (MPEG-4 part 2 where this ffmpeg has no libx264) and AAC in MP4.
function mp4(name, { w = 320, h = 240, s = 4, extra = [] } = {}) {
  ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${w}x${h}:rate=25`, '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', String(s), '-c:v', h264, '-pix_fmt', 'yuv420p', '-c:a', 'aac', ...extra, file(name));
  return readFileSync(file(name));
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rap-video-'));
  if (!/\blibx264\b/.test(encoders())) h264 = 'mpeg4';
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function start(bytes, params, filename) {
  const up = await upload(bytes, { filename });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const res = await createJob({ object_key: up.body.object_key, type: 'video.probe', params });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

const run = async (bytes, params, filename) => jobEnded(await start(bytes, params, filename), 120000);

// The job's first output (GET /api/jobs/{id}/output, presigned).
async function firstOutput(id) {
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/output`, { headers: auth() });
  assert.equal(res.status, 200);
  const out = await res.json();
  return { key: out.object_key, bytes: Buffer.from(await (await fetch(out.url)).arrayBuffer()) };
}

// A JPEG's width and height, from its first start-of-frame marker.
function jpegSize(b) {
  assert.deepEqual([...b.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  for (let i = 2; i + 9 < b.length;) {
    const marker = b[i + 1];
    if (marker >= 0xc0 && marker <= 0xc3) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    i += 2 + b.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker');
}

// The worker survives a hostile file: the next video job completes.
async function nextVideoJobCompletes() {
  const job = await run(mp4('next.mp4', { w: 64, h: 48, s: 1 }), {}, 'next.mp4');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.result.streams[0].width, 64);
  assert.equal(job.result.poster.width, 64);
}

test('GET /api/job-types lists video.probe on the video pool with its schema', async () => {
  const res = await fetch(`${GATEWAY}/api/job-types/video.probe`, { headers: auth() });
  assert.equal(res.status, 200);
  const t = await res.json();
  assert.equal(t.pool, 'video');
  assert.equal(t.queue, 'jobs.work.video');
  assert.equal(t.input, 'file');
  assert.ok(t.content.includes('video/mp4') && t.content.includes('video/webm'), t.content.join());
  assert.equal(t.params.properties.position.default, 10);
  assert.equal(t.params.properties.poster_width.maximum, 4096);
});

test('an MP4 of 4 s: its container, duration, codecs and sizes, and a poster at 10 %', async () => {
  const job = await run(mp4('clip.mp4'), {}, 'clip.mp4');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const r = job.result;
  assertResult(r);
  assert.match(r.container, /\bmp4\b/);
  assert.ok(Math.abs(r.duration_s - 4) < 0.1, `duration ${r.duration_s}`);
  const [v, a] = [r.streams.find((s) => s.type === 'video'), r.streams.find((s) => s.type === 'audio')];
  assert.equal(v.codec, h264 === 'libx264' ? 'h264' : 'mpeg4');
  assert.deepEqual([v.width, v.height, v.frame_rate, v.pix_fmt], [320, 240, 25, 'yuv420p']);
  assert.equal(a.codec, 'aac');
  assert.equal(a.sample_rate, 44100);
  assert.equal(a.channels, 1);
  assert.equal(r.poster.name, 'poster.jpg');
  assert.equal(r.poster.key, `processed/${job.job_id}/poster.jpg`);
  assert.deepEqual([r.poster.width, r.poster.height], [320, 240]);
  assert.ok(Math.abs(r.poster.position_s - 0.4) < 0.05, `poster at ${r.poster.position_s}`);
  assert.equal(r.output_key, `processed/${job.job_id}/poster.jpg`);
  assert.deepEqual(r.outputs.map((o) => [o.name, o.content_type]), [['poster.jpg', 'image/jpeg']]);
  const out = await firstOutput(job.job_id);
  assert.equal(out.key, r.poster.key);
  assert.equal(out.bytes.length, r.poster.bytes);
  assert.deepEqual(jpegSize(out.bytes), [320, 240]);
});

test('the position in seconds and the poster width are honoured; a WebM reads too', async () => {
  const bytes = mp4('pos.mp4');
  const job = await run(bytes, { position_s: 2.5, poster_width: 160 }, 'pos.mp4');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assertResult(job.result);
  assert.ok(Math.abs(job.result.poster.position_s - 2.5) < 0.05, `poster at ${job.result.poster.position_s}`);
  assert.deepEqual([job.result.poster.width, job.result.poster.height], [160, 120]);
  assert.deepEqual(jpegSize((await firstOutput(job.job_id)).bytes), [160, 120]);
  if (!/\blibvpx\b/.test(encoders())) return;
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25', '-t', '2', '-c:v', 'libvpx', file('clip.webm'));
  const webm = await run(readFileSync(file('clip.webm')), { position: 50 }, 'clip.webm');
  assert.equal(webm.status, 'COMPLETED', JSON.stringify(webm));
  assertResult(webm.result);
  assert.equal(webm.result.container, 'matroska,webm');
  assert.equal(webm.result.streams[0].codec, 'vp8');
  assert.ok(Math.abs(webm.result.poster.position_s - 1) < 0.05, `poster at ${webm.result.poster.position_s}`);
  assert.deepEqual([webm.result.poster.width, webm.result.poster.height], [320, 180]);
});

// Audio alone in an MP4 is still video/mp4 to libmagic (an .m4a, which
// ffmpeg writes with the M4A brand, is audio/x-m4a and refused at
// creation): what it holds is the answer, and there is no poster.
test('an MP4 with audio alone completes with its stream and no poster', async () => {
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '2', '-c:a', 'aac', file('tone.mp4'));
  const job = await run(readFileSync(file('tone.mp4')), {}, 'tone.mp4');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assertResult(job.result);
  assert.deepEqual(job.result.streams.map((s) => [s.type, s.codec]), [['audio', 'aac']]);
  assert.equal(job.result.poster, null);
  assert.equal(job.result.output_key, `processed/${job.job_id}/result.json`);
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1', '-c:a', 'aac', file('tone.m4a'));
  const up = await upload(readFileSync(file('tone.m4a')), { filename: 'tone.m4a' });
  assertError(await createJob({ object_key: up.body.object_key, type: 'video.probe' }), 415,
    'unsupported_content');
});

// Cover art: a picture attached to audio is one packet the demuxer holds;
// it is the poster, whatever the position.
test('audio with cover art gets the picture as its poster', async () => {
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '20', '-c:a', 'aac', file('song.mp4'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=300x300', '-frames:v', '1', file('cover.jpg'));
  ffmpeg('-i', file('song.mp4'), '-i', file('cover.jpg'), '-map', '0', '-map', '1', '-c', 'copy',
    '-disposition:v:0', 'attached_pic', file('covered.mp4'));
  const job = await run(readFileSync(file('covered.mp4')), { position: 50, poster_width: 100 }, 'covered.mp4');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assertResult(job.result);
  assert.deepEqual(job.result.streams.map((s) => [s.type, s.codec]), [['audio', 'aac'], ['video', 'mjpeg']]);
  assert.equal(job.result.streams[1].frame_rate, null);
  assert.deepEqual([job.result.poster.width, job.result.poster.height, job.result.poster.position_s], [100, 100, 0]);
  assert.deepEqual(jpegSize((await firstOutput(job.job_id)).bytes), [100, 100]);
});

test('params outside the schema are 422, content that is not a video 415', async () => {
  const up = await upload(mp4('p.mp4', { w: 64, h: 48, s: 1 }), { filename: 'p.mp4' });
  for (const [params, field] of [
    [{ position: 101 }, 'params.position'],
    [{ poster_width: 8 }, 'params.poster_width'],
    [{ position_s: -1 }, 'params.position_s'],
    [{ poster: 'yes' }, 'params.poster'],
  ]) {
    const res = await createJob({ object_key: up.body.object_key, type: 'video.probe', params });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.code, 'invalid_params');
    assert.ok(res.body.detail.startsWith(field), res.body.detail);
  }
  const text = await upload(Buffer.from('id,name\n1,a\n'), { filename: 'fake.mp4' });
  assertError(await createJob({ object_key: text.body.object_key, type: 'video.probe' }), 415,
    'unsupported_content');
});

test('a position past the end fails invalid_params, permanently', async () => {
  const job = await run(mp4('short.mp4', { w: 64, h: 48, s: 1 }), { position_s: 30 }, 'short.mp4');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^invalid_params: position_s 30\.000 is past the end of the video/);
  assert.equal(job.attempt, 1);
});

test('an MP4 cut in half (no moov) fails permanently as truncated, then the next job completes', async () => {
  const whole = mp4('whole.mp4');
  const job = await run(whole.subarray(0, Math.floor(whole.length / 2)), {}, 'cut.mp4');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'invalid_input: truncated or not a video: moov atom not found '
    + '(Invalid data found when processing input)');
  assert.equal(job.attempt, 1, 'a permanent failure: never retried');
  await nextVideoJobCompletes();
});

test('an MP4 with its moov first, cut in half, fails permanently as truncated', async () => {
  const whole = mp4('fast.mp4', { extra: ['-movflags', '+faststart'] });
  const job = await run(whole.subarray(0, Math.floor(whole.length / 2)), {}, 'fastcut.mp4');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^invalid_input: the file is truncated: stream \d's index reaches byte \d+ of a file of \d+ bytes$/);
  assert.equal(job.attempt, 1);
  await nextVideoJobCompletes();
});

// Bytes from a fixed seed: the same damage every run.
function noise(n, seed = 14) {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

test('a corrupt header: refused at creation when no longer a video, FAILED when still one', async () => {
  const whole = mp4('corrupt.mp4');
  // The first 4 KiB overwritten: libmagic no longer sees a video, and the
  // job is refused before it runs (the documented 415).
  const blind = Buffer.concat([noise(4096), whole.subarray(4096)]);
  const up = await upload(blind, { filename: 'blind.mp4' });
  assertError(await createJob({ object_key: up.body.object_key, type: 'video.probe' }), 415,
    'unsupported_content');
  // ftyp kept (still video/mp4 to libmagic), the box after it overwritten:
  // libavformat finds no moov.
  const boxes = Buffer.concat([whole.subarray(0, 32), noise(4096 - 32), whole.subarray(4096)]);
  let job = await run(boxes, {}, 'boxes.mp4');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'invalid_input: truncated or not a video: moov atom not found '
    + '(Invalid data found when processing input)');
  assert.equal(job.attempt, 1);
  await nextVideoJobCompletes();
  // The moov's boxes overwritten past its header (the track and sample
  // tables): the container declares no stream.
  const moov = whole.indexOf('moov');
  assert.ok(moov > 0);
  const tracks = Buffer.from(whole);
  noise(2000, 7).copy(tracks, moov + 104);
  job = await run(tracks, {}, 'tracks.mp4');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'invalid_input: truncated or not a video: the container declares no stream '
    + '(its header is damaged)');
  assert.equal(job.attempt, 1);
  await nextVideoJobCompletes();
});

test('a frame size of 16384 x 16384 in the header is refused before decoding, then the next job completes', async () => {
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=16x16:rate=5', '-t', '0.4', '-c:v', 'rawvideo', '-pix_fmt', 'bgr24',
    file('raw.avi'));
  const bytes = readFileSync(file('raw.avi'));
  // The BITMAPINFOHEADER after "strf" and its size: biSize, biWidth,
  // biHeight, where the AVI demuxer takes the frame size from.
  const strf = bytes.indexOf('strf');
  assert.ok(strf > 0);
  bytes.writeInt32LE(16384, strf + 12);
  bytes.writeInt32LE(16384, strf + 16);
  const t0 = Date.now();
  const job = await run(bytes, {}, 'huge.avi');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'too_large: stream 0\'s frames are 16384x16384, over the limit of 8192 a side '
    + 'and 35389440 pixels (refused from the header, before decoding)');
  assert.equal(job.attempt, 1);
  assert.ok(Date.now() - t0 < 30000, 'at once');
  await nextVideoJobCompletes();
});

// Point 5 of issue 14: videos have a pool of their own, so a burst of slow
// videos (more than the workers can take at once) never delays a thumbnail.
test('a burst of videos does not delay a thumbnail', async () => {
  // One keyframe for 40 s of 720p: a poster at 95 % decodes ~950 frames
  // from the start, a second or more a job.
  const slow = mp4('slow.mp4', { w: 1280, h: 720, s: 40, extra: ['-g', '100000', '-preset', 'ultrafast', '-an'] });
  const up = await upload(slow, { filename: 'slow.mp4' });
  assert.equal(up.status, 201);
  const videos = [];
  for (let i = 0; i < 3 * WORKERS; i++) {
    const res = await createJob({ object_key: up.body.object_key, type: 'video.probe', params: { position: 95 } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    videos.push(res.body.job_id);
  }
  try {
    await waitFor('a video running on every worker', async () => {
      const jobs = await Promise.all(videos.map(async (id) => (await getJob(id)).body));
      return jobs.filter((j) => j.status === 'PROCESSING').length >= WORKERS;
    }, 60000, 100);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
      'testsrc=size=640x480', '-frames:v', '1', file('busy.jpg')]);
    const t = await (await upload(readFileSync(file('busy.jpg')), { filename: 'busy.jpg' })).body;
    const res = await createJob({ object_key: t.object_key, type: 'image.thumbnail',
      params: { sizes: [{ width: 160, height: 160 }] } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const thumb = await jobEnded(res.body.job_id, 30000);
    assert.equal(thumb.status, 'COMPLETED', JSON.stringify(thumb));
    assert.deepEqual([thumb.result.thumbnails[0].width, thumb.result.thumbnails[0].height], [160, 120]);
    const states = await Promise.all(videos.map(async (id) => (await getJob(id)).body.status));
    assert.ok(states.filter((s) => s === 'QUEUED' || s === 'PROCESSING').length > WORKERS,
      `the burst was still waiting when the thumbnail completed: ${states.join(', ')}`);
  } finally {
    for (const v of videos) await fetch(`${GATEWAY}/api/jobs/${v}/cancel`, { method: 'POST', headers: auth() });
  }
  for (const v of videos) {
    await waitFor(`video ${v} ended or cancelled`, async () =>
      ['CANCELLED', 'COMPLETED'].includes((await getJob(v)).body.status), 60000, 100);
  }
  // The pool is free again: a video completes.
  await nextVideoJobCompletes();
});
