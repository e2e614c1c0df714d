// tus 1.0 resumable uploads at /api/files through the gateway: the real
// tus-js-client from npm through a connection that breaks mid-upload, a
// client killed mid-way, checksums (460), concurrent PATCHes (423), expiry,
// limits (413), content checks (415), termination, deferred length,
// creation-with-upload and concatenation. Every object's sha256 is checked
// against the bytes sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as tus from 'tus-js-client';
import {
  GATEWAY, OTHER_KEY, TUS, assertError, auth, createJob, idOf, jobEnded, linkProxy, randomBytes, sha256,
  tusHead as head, uploadRecord as uploadInfo, waitFor,
} from './helpers.mjs';

const MiB = 1024 * 1024;
const LIMIT = Number(process.env.RAP_UPLOAD_MAX_BYTES || 10 * 2 ** 30);
const S3 = `http://127.0.0.1:${process.env.RAP_S3_PORT || 9100}/${process.env.RAP_S3_BUCKET || 'rap-data'}`;
const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
  '-U', 'postgres', '-d', 'rap', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
const b64 = (s) => Buffer.from(s).toString('base64');

async function create(length, headers = {}, body) {
  const h = { ...TUS, ...auth(), ...headers };
  if (length !== undefined) h['Upload-Length'] = String(length);
  if (body) h['Content-Type'] = 'application/offset+octet-stream';
  const res = await fetch(`${GATEWAY}/api/files/`, { method: 'POST', headers: h, body });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

async function patch(loc, offset, body, headers = {}) {
  const res = await fetch(`${GATEWAY}${loc}`, {
    method: 'PATCH',
    headers: { ...TUS, ...auth(), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const sha1b64 = (buf) => crypto.createHash('sha1').update(buf).digest('base64');
const s3Status = async (key) => (await fetch(`${S3}/${key}`, { method: 'HEAD' })).status;

function tusUpload(input, opts) {
  return new Promise((resolve, reject) => {
    const u = new tus.Upload(input, {
      headers: auth(),
      metadata: { filename: 'clip.bin', filetype: 'application/octet-stream' },
      retryDelays: [100, 300, 1000, 2000],
      onError: reject,
      onSuccess: () => resolve(u),
      ...opts,
    });
    u.start();
  });
}

test('OPTIONS tells the version, extensions, checksums and size limit', async () => {
  const res = await fetch(`${GATEWAY}/api/files/`, { method: 'OPTIONS' });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('tus-version'), '1.0.0');
  const ext = res.headers.get('tus-extension').split(',');
  for (const e of ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'checksum', 'expiration', 'concatenation'])
    assert.ok(ext.includes(e), `extension ${e}`);
  assert.ok(res.headers.get('tus-checksum-algorithm').split(',').includes('sha1'));
  assert.equal(Number(res.headers.get('tus-max-size')), LIMIT);
});

test('tus-js-client: the connection breaks mid-upload, the client resumes from the offset, sha256 matches', async () => {
  const data = randomBytes(22 * MiB + 777);
  const proxy = await linkProxy({ cutAfter: 9 * MiB });
  const heads = [];
  const patches = [];
  try {
    const u = await tusUpload(data, {
      endpoint: `${proxy.url}/api/files/`,
      onBeforeRequest: (req) => { if (req.getMethod() === 'PATCH') patches.push(req); },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD') heads.push(Number(res.getHeader('Upload-Offset')));
      },
    });
    assert.ok(proxy.cut, 'the connection was cut');
    // The client asked for the offset after the cut (again if it came while
    // the server was still saving the interrupted PATCH: 423 or 409).
    assert.ok(heads.length >= 1, 'the client asked for the offset');
    const resumed = heads[heads.length - 1];
    assert.ok(resumed >= 5 * MiB && resumed < data.length, `resumed at ${resumed}, not from 0`);
    assert.ok(patches.length >= 2, 'the upload took more than one PATCH');
    const info = await uploadInfo(idOf(u.url));
    assert.equal(info.state, 'COMPLETE');
    assert.equal(info.size, data.length);
    assert.equal(info.sha256, sha256(data));
    assert.equal(info.filename, 'clip.bin');
    assert.match(info.object_key, /^uploads\/[0-9a-f-]{36}$/);
    // The finished upload makes a job like a streamed one.
    const r = await createJob({ object_key: info.object_key, type: 'file.inspect' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const job = await jobEnded(r.body.job_id);
    assert.equal(job.status, 'COMPLETED');
    assert.equal(job.result.sha256, sha256(data));
  } finally {
    proxy.close();
  }
});

test('a client killed mid-upload: its bytes are kept, a new client resumes from HEAD and finishes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rap-tus-'));
  const file = path.join(dir, 'data.bin');
  const data = randomBytes(20 * MiB + 12345);
  fs.writeFileSync(file, data);
  // The child creates the upload and sends the file in one PATCH, slowly
  // (about 8 MiB/s), like a client on a thin link.
  const script = `
    import fs from 'node:fs';
    import http from 'node:http';
    const data = fs.readFileSync(process.argv[1]);
    const h = { 'Tus-Resumable': '1.0.0', Authorization: 'Bearer ' + process.env.KEY };
    const c = await fetch(process.env.RAP_GATEWAY_URL + '/api/files/', { method: 'POST', headers: { ...h, 'Upload-Length': String(data.length) } });
    const loc = c.headers.get('location');
    console.log('URL ' + new URL(loc, process.env.RAP_GATEWAY_URL));
    const t = new URL(process.env.RAP_GATEWAY_URL);
    const req = http.request({ host: t.hostname, port: t.port, path: loc, method: 'PATCH', headers: { ...h,
      'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0', 'Content-Length': data.length } });
    req.on('error', () => {});
    for (let o = 0; o < data.length; o += 256 * 1024) {
      req.write(data.subarray(o, o + 256 * 1024));
      await new Promise((r) => setTimeout(r, 30));
    }
    req.end();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], {
    cwd: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'),
    env: { ...process.env, RAP_GATEWAY_URL: GATEWAY, KEY: 'dev-key' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  try {
    const url = await waitFor('the child created its upload', () => /URL (\S+)/.exec(out)?.[1], 20000, 20);
    const loc = new URL(url).pathname;
    // Wait until at least one part is stored, then kill the client.
    const before = await waitFor('a part stored', async () => {
      const h = await head(loc);
      return h.offset >= 5 * MiB && h.offset;
    }, 30000, 50);
    child.kill('SIGKILL');
    // The bytes that arrived after the last part are kept too (the tail).
    await waitFor('the interrupted PATCH saved and unlocked', () =>
      Number(psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")) === 0, 20000, 50);
    const after = (await head(loc)).offset;
    assert.ok(after >= before, `offset ${after} after the kill, ${before} before`);
    assert.ok(after < data.length);
    const heads = [];
    const u = await tusUpload(data, {
      uploadUrl: url,
      chunkSize: 4 * MiB,
      onAfterResponse: (req, res) => { if (req.getMethod() === 'HEAD') heads.push(Number(res.getHeader('Upload-Offset'))); },
    });
    assert.deepEqual(heads, [after], 'the new client resumed at the saved offset');
    const info = await uploadInfo(idOf(u.url));
    assert.equal(info.sha256, sha256(data));
    assert.equal(info.size, data.length);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PATCHes by hand: tail kept between requests, checksum verified, 460 stores nothing', async () => {
  const data = randomBytes(7 * MiB + 100);
  const c = await create(data.length, { 'Upload-Metadata': `filename ${b64('../a b.txt')},filetype ${b64('text/plain')}` });
  assert.equal(c.status, 201, c.body);
  const loc = c.headers.get('location');
  assert.match(loc, /^\/api\/files\/[0-9a-f-]{36}$/);
  assert.ok(Date.parse(c.headers.get('upload-expires')) > Date.now());
  assert.equal(c.headers.get('tus-resumable'), '1.0.0');

  let h = await head(loc);
  assert.equal(h.status, 200);
  assert.equal(h.offset, 0);
  assert.equal(Number(h.headers.get('upload-length')), data.length);
  assert.equal(h.headers.get('cache-control'), 'no-store');

  // 1 MiB with a right checksum: kept as a tail (smaller than a part).
  const p1 = data.subarray(0, MiB);
  let r = await patch(loc, 0, p1, { 'Upload-Checksum': `sha1 ${sha1b64(p1)}` });
  assert.equal(r.status, 204, r.body);
  assert.equal(Number(r.headers.get('upload-offset')), MiB);
  assert.equal(await s3Status(`tus/${idOf(loc)}/tail-0`), 200);

  // A wrong checksum: 460 and nothing of that PATCH counts.
  const p2 = data.subarray(MiB, 6 * MiB);
  r = await patch(loc, MiB, p2, { 'Upload-Checksum': `sha1 ${sha1b64(Buffer.from('other'))}` });
  assert.equal(r.status, 460, r.body);
  assert.equal(JSON.parse(r.body).code, 'checksum_mismatch');
  assert.equal((await head(loc)).offset, MiB);
  // An unknown algorithm is a 400; a wrong offset a 409 with the true one.
  r = await patch(loc, MiB, p2, { 'Upload-Checksum': `crc32 ${b64('abcd')}` });
  assert.equal(r.status, 400);
  r = await patch(loc, 0, p2);
  assert.equal(r.status, 409);
  assert.equal(Number(r.headers.get('upload-offset')), MiB);
  r = await patch(loc, MiB, p2, { 'Content-Type': 'application/octet-stream' });
  assert.equal(r.status, 415);

  // The same bytes with the right checksum cross a part boundary.
  r = await patch(loc, MiB, p2, { 'Upload-Checksum': `sha256 ${crypto.createHash('sha256').update(p2).digest('base64')}` });
  assert.equal(r.status, 204, r.body);
  assert.equal(Number(r.headers.get('upload-offset')), 6 * MiB);
  assert.equal(await s3Status(`tus/${idOf(loc)}/tail-0`), 404, 'the old tail is gone');
  r = await patch(loc, 6 * MiB, data.subarray(6 * MiB));
  assert.equal(r.status, 204, r.body);
  assert.equal(Number(r.headers.get('upload-offset')), data.length);
  assert.equal(r.headers.get('upload-expires'), null, 'a finished upload does not expire');

  const info = await uploadInfo(idOf(loc));
  assert.equal(info.sha256, sha256(data));
  assert.equal(info.filename, 'a_b.txt');
  assert.equal(info.content_type, 'text/plain');
  assert.equal(await s3Status(`tus/${idOf(loc)}/tail-5242880`), 404, 'no tail is left');
  // A finished upload takes no more PATCHes and is not terminated.
  assertError(await patch(loc, data.length, Buffer.alloc(0)).then((x) => ({ status: x.status, body: JSON.parse(x.body) })), 403, 'upload_complete');
  const del = await fetch(`${GATEWAY}${loc}`, { method: 'DELETE', headers: { ...TUS, ...auth() } });
  assert.equal(del.status, 409);
});

test('a second PATCH while one is writing gets 423; the first finishes intact', async () => {
  const data = randomBytes(3 * MiB);
  const c = await create(data.length);
  const loc = c.headers.get('location');
  const target = new URL(GATEWAY);
  // The first PATCH sends half its body and waits.
  let done;
  const first = new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname, port: target.port, path: loc, method: 'PATCH',
      headers: { ...TUS, ...auth(), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0', 'Content-Length': data.length },
    }, (res) => { res.resume(); res.on('end', () => resolve(res)); });
    req.on('error', reject);
    req.write(data.subarray(0, MiB));
    done = () => req.end(data.subarray(MiB));
  });
  await waitFor('the first PATCH holds the lock', () =>
    Number(psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")) > 0, 10000, 20);
  const second = await patch(loc, 0, data.subarray(0, 10));
  assert.equal(second.status, 423, second.body);
  assert.equal(JSON.parse(second.body).code, 'locked');
  assert.equal(second.headers.get('retry-after'), '1', 'a busy upload says when to ask again');
  // Termination waits for the lock as well.
  const del = await fetch(`${GATEWAY}${loc}`, { method: 'DELETE', headers: { ...TUS, ...auth() } });
  assert.equal(del.status, 423);
  done();
  const res = await first;
  assert.equal(res.statusCode, 204);
  assert.equal(Number(res.headers['upload-offset']), data.length);
  assert.equal((await uploadInfo(idOf(loc))).sha256, sha256(data));
});

test('concurrent uploads do not mix', async () => {
  const files = Array.from({ length: 4 }, (_, i) => randomBytes(6 * MiB + i * 1000));
  const uploads = await Promise.all(files.map((f) => tusUpload(f, { endpoint: `${GATEWAY}/api/files/`, chunkSize: 2 * MiB })));
  for (let i = 0; i < files.length; i++)
    assert.equal((await uploadInfo(idOf(uploads[i].url))).sha256, sha256(files[i]), `upload ${i}`);
});

test('deferred length, creation-with-upload, and an empty upload', async () => {
  const data = randomBytes(2 * MiB + 5);
  // creation-with-upload: the first bytes come with the POST.
  const c = await create(undefined, { 'Upload-Defer-Length': '1' }, data.subarray(0, MiB));
  assert.equal(c.status, 201, c.body);
  assert.equal(Number(c.headers.get('upload-offset')), MiB);
  const loc = c.headers.get('location');
  let h = await head(loc);
  assert.equal(h.headers.get('upload-defer-length'), '1');
  assert.equal(h.headers.get('upload-length'), null);
  // The length arrives with the last PATCH.
  const r = await patch(loc, MiB, data.subarray(MiB), { 'Upload-Length': String(data.length) });
  assert.equal(r.status, 204, r.body);
  h = await head(loc);
  assert.equal(Number(h.headers.get('upload-length')), data.length);
  assert.equal((await uploadInfo(idOf(loc))).sha256, sha256(data));

  // A creation-with-upload whose bytes are refused still tells where the
  // upload is: the client resumes there instead of creating another.
  const first = data.subarray(0, MiB);
  const bad = await create(data.length, { 'Upload-Checksum': `sha1 ${sha1b64(Buffer.from('not these bytes'))}` }, first);
  assert.equal(bad.status, 460, bad.body);
  const badLoc = bad.headers.get('location');
  assert.match(badLoc ?? '', /^\/api\/files\/[0-9a-f-]{36}$/, 'the 460 carries the Location');
  assert.equal((await head(badLoc)).offset, 0, 'nothing of the refused bytes counts');
  assert.equal((await patch(badLoc, 0, data)).status, 204);
  assert.equal((await uploadInfo(idOf(badLoc))).sha256, sha256(data));

  const e = await create(0);
  assert.equal(e.status, 201);
  const info = await uploadInfo(idOf(e.headers.get('location')));
  assert.equal(info.state, 'COMPLETE');
  assert.equal(info.sha256, sha256(Buffer.alloc(0)));
});

test('concatenation: two partial uploads make one final object', async () => {
  const a = randomBytes(6 * MiB + 3), b = randomBytes(MiB + 9);
  const locs = [];
  for (const part of [a, b]) {
    const c = await create(part.length, { 'Upload-Concat': 'partial' });
    const loc = c.headers.get('location');
    assert.equal((await patch(loc, 0, part)).status, 204);
    locs.push(loc);
  }
  // An unfinished partial upload cannot be joined.
  const unfinished = await create(10, { 'Upload-Concat': 'partial' });
  const bad = await create(undefined, { 'Upload-Concat': `final;${locs[0]} ${unfinished.headers.get('location')}` });
  assert.equal(bad.status, 400, bad.body);

  const f = await create(undefined, {
    'Upload-Concat': `final;${locs[0]} ${GATEWAY}${locs[1]}`,
    'Upload-Metadata': `filename ${b64('joined/movie.mp4')},filetype ${b64('video/mp4')}`,
  });
  assert.equal(f.status, 201, f.body);
  const loc = f.headers.get('location');
  const h = await head(loc);
  assert.equal(h.offset, a.length + b.length);
  assert.match(h.headers.get('upload-concat'), /^final;/);
  assert.equal(h.headers.get('upload-metadata'), `filename ${b64('joined/movie.mp4')},filetype ${b64('video/mp4')}`);
  const info = await uploadInfo(idOf(loc));
  assert.equal(info.sha256, sha256(Buffer.concat([a, b])));
  assert.equal(info.filename, 'movie.mp4', 'the final upload takes the filename it declares');
  assert.equal(info.content_type, 'video/mp4');
  assert.equal((await patch(loc, h.offset, Buffer.from('x'))).status, 403);

  // A job type declared for the final upload has its content checked:
  // test.fault takes only text, and these partial uploads are random bytes.
  const refused = await create(undefined, {
    'Upload-Concat': `final;${locs[0]} ${locs[1]}`, 'Upload-Metadata': `job_type ${b64('test.fault')}`,
  });
  assert.equal(refused.status, 415, refused.body);
  assert.equal(JSON.parse(refused.body).code, 'unsupported_content');
  const unknown = await create(undefined, {
    'Upload-Concat': `final;${locs[0]}`, 'Upload-Metadata': `job_type ${b64('no.such')}`,
  });
  assert.equal(unknown.status, 422, unknown.body);
});

test('termination: DELETE ends an unfinished upload; HEAD then answers 410', async () => {
  const c = await create(10 * MiB);
  const loc = c.headers.get('location');
  assert.equal((await patch(loc, 0, randomBytes(6 * MiB))).status, 204);
  const del = await fetch(`${GATEWAY}${loc}`, { method: 'DELETE', headers: { ...TUS, ...auth() } });
  assert.equal(del.status, 204);
  assert.equal((await head(loc)).status, 410);
  assert.equal(await s3Status(`tus/${idOf(loc)}/tail-5242880`), 404);
  assert.equal((await patch(loc, 6 * MiB, Buffer.from('x'))).status, 410);
  assert.equal((await uploadInfo(idOf(loc))).state, 'ABORTED');
});

test('expiry: the sweeper aborts an expired upload, deletes its tail and its rows', async () => {
  const c = await create(10 * MiB);
  const loc = c.headers.get('location');
  const id = idOf(loc);
  assert.equal((await patch(loc, 0, randomBytes(MiB))).status, 204);
  assert.equal(await s3Status(`tus/${id}/tail-0`), 200);
  psql(`UPDATE tus_uploads SET expires_at = now() - interval '1 second' WHERE upload_id = '${id}'`);
  await waitFor('the upload is swept', async () => (await head(loc)).status === 404, 20000, 100);
  assert.equal(await s3Status(`tus/${id}/tail-0`), 404);
  assert.equal(psql(`SELECT count(*) FROM uploads WHERE id = '${id}'`), '0');
  assert.equal(psql(`SELECT count(*) FROM tus_uploads WHERE upload_id = '${id}'`), '0');
});

test('limits and content: 413 over the limit, 415 for content the job type refuses, nothing left', async () => {
  const over = await create(LIMIT + 1);
  assert.equal(over.status, 413, over.body);
  // Deferred length: the bytes pass the limit in a PATCH.
  const d = await create(undefined, { 'Upload-Defer-Length': '1' });
  const loc = d.headers.get('location');
  const r = await patch(loc, 0, Buffer.alloc(10), { 'Upload-Length': String(LIMIT + 1) });
  assert.equal(r.status, 413, r.body);

  // test.fault takes only text (RAP_JOB_CONTENT_TYPES in scripts/test): a
  // PNG declared for it is refused as its first bytes arrive.
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(6 * MiB)]);
  const c = await create(png.length, { 'Upload-Metadata': `job_type ${b64('test.fault')}` });
  assert.equal(c.status, 201, c.body);
  const ploc = c.headers.get('location');
  const refused = await patch(ploc, 0, png);
  assert.equal(refused.status, 415, refused.body);
  assert.equal(JSON.parse(refused.body).code, 'unsupported_content');
  assert.equal((await head(ploc)).status, 410);
  assert.equal(await s3Status(`uploads/${idOf(ploc)}`), 404);
  // Text for the same job type goes through; an unknown job type is a 422.
  const text = Buffer.from('hello plain text line\n'.repeat(1000));
  const t = await create(text.length, { 'Upload-Metadata': `job_type ${b64('test.fault')}` });
  assert.equal((await patch(t.headers.get('location'), 0, text)).status, 204);
  assert.equal((await uploadInfo(idOf(t.headers.get('location')))).detected_type, 'text/plain');
  assert.equal((await create(5, { 'Upload-Metadata': `job_type ${b64('no.such')}` })).status, 422);
});

test('protocol errors: no Tus-Resumable 412, no key 401, another owner 404, bad metadata 400', async () => {
  let res = await fetch(`${GATEWAY}/api/files/`, { method: 'POST', headers: { ...auth(), 'Upload-Length': '5' } });
  assert.equal(res.status, 412);
  assert.equal(res.headers.get('tus-version'), '1.0.0');
  res = await fetch(`${GATEWAY}/api/files/`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '5' } });
  assert.equal(res.status, 401);
  const c = await create(5);
  assert.equal((await head(c.headers.get('location'), OTHER_KEY)).status, 404);
  assert.equal((await create(5, { 'Upload-Metadata': 'filename ***' })).status, 400);
  assert.equal((await create(undefined)).status, 400, 'neither Upload-Length nor Upload-Defer-Length');
  assert.equal((await create('-3')).status, 400);
  assert.equal((await head('/api/files/not-a-uuid')).status, 404);
  assert.equal((await create(5, { 'Upload-Concat': 'final;' })).status, 400);
});

test('X-HTTP-Method-Override stands for the method; other methods get 405 after 412 and 401', async () => {
  const c = await create(5);
  const loc = c.headers.get('location');
  const post = (path, headers, body) => fetch(`${GATEWAY}${path}`, { method: 'POST', headers, body });
  let res = await post(loc, { ...TUS, ...auth(), 'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': '0',
    'Content-Type': 'application/offset+octet-stream' }, 'hello');
  assert.equal(res.status, 204, await res.text());
  assert.equal(res.headers.get('upload-offset'), '5');
  assert.equal(res.headers.get('tus-resumable'), '1.0.0');
  res = await post(loc, { ...TUS, ...auth(), 'X-HTTP-Method-Override': 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('upload-offset'), '5');
  res = await post(loc, { ...TUS, ...auth(), 'X-HTTP-Method-Override': 'DELETE' });
  assertError({ status: res.status, body: await res.json() }, 409, 'upload_complete');
  res = await post(loc, { ...TUS, ...auth() });
  assertError({ status: res.status, body: await res.json() }, 405, 'method_not_allowed');
  assert.equal(res.headers.get('tus-resumable'), '1.0.0');
  res = await fetch(`${GATEWAY}/api/files/`, { headers: { ...TUS, ...auth() } });
  assertError({ status: res.status, body: await res.json() }, 405, 'method_not_allowed');
  res = await fetch(`${GATEWAY}${loc}`, { method: 'PUT', headers: auth(), body: 'x' });
  assert.equal(res.status, 412, 'no Tus-Resumable comes before the method');
  res = await fetch(`${GATEWAY}${loc}`, { method: 'PUT', headers: TUS, body: 'x' });
  assert.equal(res.status, 401, 'then the key');
  res = await fetch(`${GATEWAY}/api/files/not-a-uuid`, { method: 'GET', headers: { ...TUS, ...auth() } });
  assert.equal(res.status, 404, 'then an id that is no upload');
  res = await fetch(`${GATEWAY}${loc}`, { method: 'OPTIONS' });
  assert.equal(res.status, 204, 'OPTIONS of an upload takes no key');
});
