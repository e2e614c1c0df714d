// tus-py-client, the Python tus client (Debian's python3-tuspy), unchanged
// against upload-api: a run stopped half-way and a later process that
// resumes from the URL its storage kept; a byte corrupted in transit that
// the sha1 Upload-Checksum catches (460) and the client sends again; a link
// cut mid-PATCH that the client's own retry recovers from the offset the
// server kept. Every finished object is checked by sha256.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  GATEWAY, createJob, idOf, jobEnded, linkProxy, randomBytes, sha256, tusHead, uploadRecord,
} from './helpers.mjs';

const MiB = 1024 * 1024;
// Debian's interpreter: the package lives in its dist-packages, which a
// python3 of pyenv or a venv earlier on PATH does not see.
const PYTHON = process.env.RAP_PYTHON || '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(new URL(import.meta.url).pathname), 'tuspy_upload.py');
let dir;

before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rap-tuspy-')); });
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function testFile(name, size) {
  const data = randomBytes(size);
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return { data, file, store: path.join(dir, `${name}.urls.json`) };
}

// Runs tuspy_upload.py to its end (bounded) and answers its JSON lines.
function tuspy(base, f, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, `${base}/api/files/`, f.file, f.store, ...args],
      { env: { ...process.env, RAP_API_KEY: 'dev-key' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ code, signal, events, stderr: err, last: events.at(-1) });
    });
  });
}

async function assertFinished(url, data) {
  const info = await uploadRecord(idOf(url));
  assert.equal(info.state, 'COMPLETE', JSON.stringify(info));
  assert.equal(info.size, data.length);
  assert.equal(info.sha256, sha256(data));
  return info;
}

test('tus-py-client: stopped half-way, a new process resumes from its stored URL at the server offset', async () => {
  const f = testFile('half.bin', 13 * MiB + 4321);
  const first = await tuspy(GATEWAY, f, ['--chunk', String(2 * MiB), '--stop-at', String(7 * MiB)]);
  assert.equal(first.code, 0, first.stderr + JSON.stringify(first.events));
  assert.equal(first.last.event, 'stopped');
  assert.equal(first.last.offset, 7 * MiB);
  // One S3 part (5 MiB) and a 2 MiB tail are stored; HEAD tells all of it.
  assert.equal((await tusHead(first.last.url)).offset, 7 * MiB);

  const second = await tuspy(GATEWAY, f, ['--chunk', String(4 * MiB)]);
  assert.equal(second.code, 0, second.stderr + JSON.stringify(second.events));
  assert.deepEqual(second.events[0], { event: 'start', url: first.last.url, offset: 7 * MiB },
    'the second run found the upload in its storage and asked HEAD for the offset');
  assert.equal(second.last.event, 'done');
  const info = await assertFinished(second.last.url, f.data);
  assert.equal(info.filename, 'half.bin');

  // The finished upload makes a job like any other.
  const r = await createJob({ object_key: info.object_key, type: 'file.inspect' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const job = await jobEnded(r.body.job_id);
  assert.equal(job.status, 'COMPLETED');
  assert.equal(job.result.sha256, sha256(f.data));
});

test('tus-py-client: a byte corrupted in transit is refused by its sha1 checksum (460) and sent again', async () => {
  const f = testFile('flip.bin', 9 * MiB + 99);
  // 3 MiB into a connection is inside the body of a 4 MiB PATCH.
  const proxy = await linkProxy({ flipAt: 3 * MiB });
  try {
    const run = await tuspy(proxy.url, f, ['--chunk', String(4 * MiB), '--retries', '2']);
    assert.equal(run.code, 0, run.stderr + JSON.stringify(run.events));
    assert.ok(proxy.flipped, 'a byte was corrupted');
    assert.match(proxy.flipAnswer, /^HTTP\/1\.1 460 /, 'the corrupted PATCH was refused');
    const offsets = run.events.filter((e) => e.event === 'chunk').map((e) => e.offset);
    assert.deepEqual(offsets, [4 * MiB, 8 * MiB, f.data.length], 'the refused chunk counted for nothing');
    await assertFinished(run.last.url, f.data);
  } finally {
    await proxy.close();
  }
});

test('tus-py-client: a link cut mid-PATCH; its retry asks HEAD and goes on from the stored offset', async () => {
  const f = testFile('cut.bin', 12 * MiB + 7);
  // The first PATCH (6 MiB) breaks after 5.5 MiB. Without a checksum the
  // bytes that arrived are kept (as the tail), so HEAD tells an offset
  // inside the chunk. (Under Upload-Checksum an interrupted PATCH keeps
  // nothing: its bytes cannot be verified.)
  const proxy = await linkProxy({ cutAfter: 5.5 * MiB });
  try {
    const run = await tuspy(proxy.url, f, ['--chunk', String(6 * MiB), '--retries', '3', '--no-checksum']);
    assert.equal(run.code, 0, run.stderr + JSON.stringify(run.events));
    assert.ok(proxy.cut, 'the link was cut');
    const offsets = run.events.filter((e) => e.event === 'chunk').map((e) => e.offset);
    // The retry sent from the server's offset, not from 0 nor from the
    // client's own: the first answered PATCH ends between 10 and 12 MiB.
    assert.ok(offsets[0] > 10 * MiB && offsets[0] < 12 * MiB, `offsets ${offsets.join(', ')}`);
    assert.equal(offsets.at(-1), f.data.length);
    await assertFinished(run.last.url, f.data);
  } finally {
    await proxy.close();
  }
});
