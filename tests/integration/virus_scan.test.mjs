// virus.scan end to end (issue 14): files uploaded and scanned with ClamAV
// in children of each worker's fork server, on the virus pool's queue.
// The signatures are the test stack's own (scripts/test writes them to
// RAP_CLAMAV_DB: EICAR and the marker RAP-TEST-CUSTOM-SIGNATURE-1; no
// update server is reachable). An infected file is a COMPLETED scan whose
// result names the signature; EICAR inside a zip is found; each worker
// loaded its engine once, whatever the number of scans. pdf.text is scanned
// first on the test stack (RAP_JOB_SCAN_FIRST): an infected PDF fails
// before poppler ever sees it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { GATEWAY, auth, createJob, jobEnded, upload } from './helpers.mjs';

const SCHEMA = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '..', '..', 'proto', 'schemas', 'virus-scan-result.json'), 'utf8'));
const checkResult = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);
const assertResult = (r) => assert.ok(checkResult(r), JSON.stringify(checkResult.errors));

const WORKERS = Number(process.env.RAP_WORKERS || 2);
const WORKER_PORT = Number(process.env.RAP_WORKER_PORT || 8104);
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const CUSTOM = 'RAP-TEST-CUSTOM-SIGNATURE-1';

let dir;
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'rap-virus-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

// A zip of the given members, written by Debian's zip (Info-ZIP).
function zipOf(name, members) {
  const names = [];
  for (const [member, text] of Object.entries(members)) {
    writeFileSync(path.join(dir, member), text);
    names.push(member);
  }
  execFileSync('zip', ['-q', '-X', name, ...names], { cwd: dir });
  return readFileSync(path.join(dir, name));
}

async function scan(bytes, filename) {
  const up = await upload(Buffer.from(bytes), { filename });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const res = await createJob({ object_key: up.body.object_key, type: 'virus.scan' });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const job = await jobEnded(res.body.job_id, 120000);
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assertResult(job.result);
  assert.equal(job.attempt, 1);
  return job.result;
}

// A worker's /metrics value of a series without labels.
async function workerMetric(i, name) {
  const text = await (await fetch(`http://127.0.0.1:${WORKER_PORT + i}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : null;
}

test('GET /api/job-types lists virus.scan on the virus pool, any content, no params', async () => {
  const res = await fetch(`${GATEWAY}/api/job-types/virus.scan`, { headers: auth() });
  assert.equal(res.status, 200);
  const t = await res.json();
  assert.equal(t.pool, 'virus');
  assert.equal(t.queue, 'jobs.work.virus');
  assert.equal(t.input, 'file');
  assert.equal(t.params.additionalProperties, false);
});

test('EICAR is infected, named by its signature; a clean file is clean', async () => {
  const bad = await scan(EICAR, 'eicar.com');
  assert.equal(bad.verdict, 'infected');
  assert.equal(bad.signature, 'Eicar-Test-Signature.UNOFFICIAL');
  assert.equal(bad.scanned_bytes, EICAR.length);
  assert.equal(bad.engine.signatures, 2);
  const good = await scan('just a note\n', 'note.txt');
  assert.equal(good.verdict, 'clean');
  assert.equal(good.signature, null);
  assert.equal(good.output_key.endsWith('/result.json'), true);
});

test('EICAR inside a zip is found', async () => {
  const r = await scan(zipOf('inside.zip', { 'readme.txt': 'hello\n', 'eicar.com': EICAR }), 'inside.zip');
  assert.equal(r.verdict, 'infected');
  assert.equal(r.signature, 'Eicar-Test-Signature.UNOFFICIAL');
  // A zip of clean members is clean.
  const ok = await scan(zipOf('clean.zip', { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' }), 'clean.zip');
  assert.equal(ok.verdict, 'clean');
});

test('a custom signature of the database names itself', async () => {
  const r = await scan(`quarterly report\n${CUSTOM}\nend\n`, 'report.txt');
  assert.equal(r.verdict, 'infected');
  assert.equal(r.signature, 'Rap.Test.Custom.UNOFFICIAL');
});

test('a hostile archive gets its outcome and the next scan completes', async () => {
  // A zip whose central directory is garbage after a valid local header:
  // libclamav scans what it can; the verdict stands, the worker lives.
  const whole = zipOf('cut.zip', { 'eicar.com': EICAR, 'pad.txt': 'x'.repeat(4000) });
  const r = await scan(whole.subarray(0, whole.length - 30), 'cut.zip');
  assert.ok(['clean', 'infected'].includes(r.verdict));
  const next = await scan('still here\n', 'next.txt');
  assert.equal(next.verdict, 'clean');
});

test('each worker loaded its engine once, however many scans it ran', async () => {
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await scan(i % 2 ? EICAR : `clean ${i}\n`, `f${i}.txt`));
  // One generation (a fork server) a worker at most.
  assert.ok(new Set(results.map((r) => r.engine.generation)).size <= WORKERS);
  for (let i = 0; i < WORKERS; i++) {
    assert.equal(await workerMetric(i, 'rap_clamav_engine_loads_total'), 1, `worker ${i + 1}`);
    assert.equal(await workerMetric(i, 'rap_clamav_signatures'), 2, `worker ${i + 1}`);
  }
});

// A PDF of one empty page, with extra bytes in a comment: libmagic says
// application/pdf whatever the comment holds.
function pdfWith(comment) {
  const objs = ['<</Type/Catalog/Pages 2 0 R>>', '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    '<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>'];
  let out = `%PDF-1.4\n% ${comment}\n`;
  const offs = [];
  objs.forEach((o, i) => { offs.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<</Size ${objs.length + 1} /Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

async function pdfJob(bytes) {
  const up = await upload(bytes, { filename: 'doc.pdf' });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const res = await createJob({ object_key: up.body.object_key, type: 'pdf.text' });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return jobEnded(res.body.job_id, 120000);
}

async function scannedFirst(verdict) {
  let n = 0;
  for (let i = 0; i < WORKERS; i++) {
    const text = await (await fetch(`http://127.0.0.1:${WORKER_PORT + i}/metrics`)).text();
    const m = text.match(new RegExp(`^rap_worker_scanned_first_total\\{verdict="${verdict}"\\} (\\d+)$`, 'm'));
    n += m ? Number(m[1]) : 0;
  }
  return n;
}

test('scan first: an infected PDF fails permanently before pdf.text runs; a clean one completes', async () => {
  const infected0 = await scannedFirst('infected');
  const clean0 = await scannedFirst('clean');
  const job = await pdfJob(pdfWith(EICAR));
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^infected: the file is infected with Eicar-Test-Signature\.UNOFFICIAL \(scanned before pdf\.text, which did not run\)$/);
  assert.equal(job.attempt, 1, 'a permanent failure: never retried');
  assert.equal(job.result, null, 'the processor never ran: no result, no output');
  const out = await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output`, { headers: auth() });
  assert.notEqual(out.status, 200, 'no output to fetch');
  assert.equal(await scannedFirst('infected'), infected0 + 1);
  // The next job of the same pool completes, scanned clean first.
  const next = await pdfJob(pdfWith('nothing here'));
  assert.equal(next.status, 'COMPLETED', JSON.stringify(next));
  assert.equal(next.result.page_count, 1);
  assert.equal(await scannedFirst('clean'), clean0 + 1);
});
