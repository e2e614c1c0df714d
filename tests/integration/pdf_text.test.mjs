// pdf.text end to end (issue 14): PDFs written during the run by cairo
// (Debian's python3-cairo) and by hand, uploaded, their text extracted in
// the sandboxed child on the pdf pool's queue, text.txt fetched back. The
// hostile ones (encrypted, truncated, a page tree that points to itself,
// arrays nested 200,000 deep, a stream that inflates to 1 GiB) each get their documented outcome, and the next PDF job still completes:
// the worker survives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { GATEWAY, assertError, auth, createJob, jobEnded, upload } from './helpers.mjs';
import { cairoPdf as makePdf } from './pdfs.mjs';

const SCHEMA = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '..', '..', 'proto', 'schemas', 'pdf-text-result.json'), 'utf8'));
const checkResult = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);
const assertResult = (r) => assert.ok(checkResult(r), JSON.stringify(checkResult.errors));

let dir;
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'rap-pdf-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name) => path.join(dir, name);

// A PDF of one page per text (tests/integration/pdfs.mjs), in this file's
// folder.
const cairoPdf = (name, texts, meta = {}) => makePdf(file(name), texts, meta);

// A PDF of the given objects (object i + 1 is objs[i], 1 the catalog; a
// string or a Buffer each), with a correct cross-reference table: the
// hostile ones, by hand.
function handPdf(objs, trailerExtra = '') {
  const parts = [Buffer.from('%PDF-1.4\n', 'latin1')];
  let len = parts[0].length;
  const put = (b) => { const buf = Buffer.isBuffer(b) ? b : Buffer.from(b, 'latin1'); parts.push(buf); len += buf.length; };
  const offs = [];
  objs.forEach((o, i) => { offs.push(len); put(`${i + 1} 0 obj\n`); put(o); put('\nendobj\n'); });
  const xref = len;
  let tail = `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) tail += `${String(o).padStart(10, '0')} 00000 n \n`;
  tail += `trailer\n<</Size ${objs.length + 1} /Root 1 0 R ${trailerExtra}>>\nstartxref\n${xref}\n%%EOF\n`;
  put(tail);
  return Buffer.concat(parts);
}

// One page whose content stream (object 4) is given, with Helvetica as F1.
const onePage = (content) => handPdf([
  '<</Type/Catalog/Pages 2 0 R>>',
  '<</Type/Pages/Kids[3 0 R]/Count 1>>',
  '<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>',
  content,
  '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
]);

async function start(bytes, params, filename) {
  const up = await upload(bytes, { filename });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const res = await createJob({ object_key: up.body.object_key, type: 'pdf.text', params });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

const run = async (bytes, params, filename) => jobEnded(await start(bytes, params, filename), 120000);

// An output of the job (GET /api/jobs/{id}/output: its output_key, text.txt;
// with a name, the output of that name), fetched through its presigned URL.
async function output(id, name) {
  const q = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/output${q}`, { headers: auth() });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.object_key, `processed/${id}/${name ?? 'text.txt'}`);
  assert.equal(body.name, name ?? 'text.txt');
  return (await (await fetch(body.url)).text());
}

const pageTexts = (text) => text.split('\f').map((p) => p.trim());

// The worker survives a hostile file: the next PDF job completes.
async function nextPdfJobCompletes() {
  const job = await run(cairoPdf('next.pdf', ['still here']), {}, 'next.pdf');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assert.equal(job.result.page_count, 1);
  assert.deepEqual(pageTexts(await output(job.job_id)), ['still here']);
}

test('GET /api/job-types lists pdf.text on the pdf pool with its schema', async () => {
  const res = await fetch(`${GATEWAY}/api/job-types/pdf.text`, { headers: auth() });
  assert.equal(res.status, 200);
  const t = await res.json();
  assert.equal(t.pool, 'pdf');
  assert.equal(t.queue, 'jobs.work.pdf');
  assert.equal(t.input, 'file');
  assert.deepEqual(t.content, ['application/pdf']);
  assert.equal(t.params.properties.max_pages.maximum, 10000);
});

test('a 3-page PDF: the page count, each page\'s text, the metadata', async () => {
  const texts = ['First page alpha', 'Second page beta', 'Third page gamma'];
  const job = await run(cairoPdf('three.pdf', texts, { title: 'Known Title', author: 'Ann Author' }),
    {}, 'three.pdf');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const r = job.result;
  assertResult(r);
  assert.equal(r.page_count, 3);
  assert.deepEqual([r.first_page, r.last_page], [1, 3]);
  assert.deepEqual(r.pages.map((p) => p.page), [1, 2, 3]);
  assert.equal(r.metadata.title, 'Known Title');
  assert.equal(r.metadata.author, 'Ann Author');
  assert.match(r.metadata.producer, /cairo/);
  assert.match(r.metadata.creation_date, /^\d{4}-\d\d-\d\dT/);
  assert.equal(r.metadata.encrypted, false);
  assert.equal(r.output_key, `processed/${job.job_id}/text.txt`);
  assert.deepEqual(r.outputs.map((o) => o.name), ['text.txt']);
  assert.deepEqual(pageTexts(await output(job.job_id)), texts);
});

test('per_page with a range stores each page asked for on its own', async () => {
  const job = await run(cairoPdf('range.pdf', ['one', 'two', 'three', 'four']),
    { per_page: true, first_page: 2, max_pages: 2 }, 'range.pdf');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
  assertResult(job.result);
  assert.equal(job.result.page_count, 4);
  assert.deepEqual([job.result.first_page, job.result.last_page], [2, 3]);
  assert.deepEqual(job.result.outputs.map((o) => o.name), ['text.txt', 'page-00002.txt', 'page-00003.txt']);
  assert.deepEqual(job.result.pages.map((p) => p.name), ['page-00002.txt', 'page-00003.txt']);
  assert.deepEqual(pageTexts(await output(job.job_id)), ['two', 'three']);
  // Each page is an output of its own, fetched by its name.
  assert.equal((await output(job.job_id, 'page-00002.txt')).trim(), 'two');
  assert.equal((await output(job.job_id, 'page-00003.txt')).trim(), 'three');
  assert.equal((await output(job.job_id, 'text.txt')).split('\f').length, 2);
  // A name it did not write is not found; one no output can have is refused.
  const get = async (q) => {
    const res = await fetch(`${GATEWAY}/api/jobs/${job.job_id}/output?${q}`, { headers: auth() });
    return { status: res.status, body: await res.json() };
  };
  const missing = await get('name=page-00001.txt');
  assertError(missing, 404, 'not_found');
  assert.match(missing.body.detail, /no output named page-00001\.txt/);
  for (const bad of ['', '..%2Ftext.txt', '.hidden', 'a%20b', 'x'.repeat(101)]) {
    const r = await get(`name=${bad}`);
    assertError(r, 400, 'bad_request');
    assert.match(r.body.detail, /^name must be/, bad);
  }
});

test('per_page stores every page of a long PDF, each fetched by its name', async () => {
  const texts = Array.from({ length: 40 }, (_, i) => `page number ${i + 1}`);
  const job = await run(cairoPdf('long.pdf', texts), { per_page: true }, 'long.pdf');
  assert.equal(job.status, 'COMPLETED', JSON.stringify(job).slice(0, 2000));
  assertResult(job.result);
  assert.equal(job.result.outputs.length, 41);
  assert.deepEqual(job.result.outputs.map((o) => o.name).slice(-2), ['page-00039.txt', 'page-00040.txt']);
  assert.equal((await output(job.job_id, 'page-00040.txt')).trim(), 'page number 40');
  assert.equal((await output(job.job_id, 'page-00017.txt')).trim(), 'page number 17');
});

test('params outside the schema are 422, content that is not a PDF 415', async () => {
  const up = await upload(cairoPdf('p.pdf', ['p']), { filename: 'p.pdf' });
  for (const [params, field] of [
    [{ first_page: 0 }, 'params.first_page'],
    [{ max_pages: 10001 }, 'params.max_pages'],
    [{ per_page: 'yes' }, 'params.per_page'],
  ]) {
    const res = await createJob({ object_key: up.body.object_key, type: 'pdf.text', params });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.code, 'invalid_params');
    assert.ok(res.body.detail.startsWith(field), res.body.detail);
  }
  const text = await upload(Buffer.from('id,name\n1,a\n'), { filename: 'fake.pdf' });
  const res = await createJob({ object_key: text.body.object_key, type: 'pdf.text' });
  assert.equal(res.status, 415, JSON.stringify(res.body));
});

test('a PDF that needs a password fails permanently as encrypted, then the next job completes', async () => {
  // The standard security handler, its O and U matching no password.
  const bytes = handPdf([
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    '<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>',
    '<</Filter/Standard/V 1/R 2/P -4/O<0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef>'
      + '/U<fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210>>>',
  ], '/Encrypt 4 0 R /ID[<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>]');
  const job = await run(bytes, {}, 'locked.pdf');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^invalid_input: the PDF is encrypted and needs a password/);
  assert.equal(job.attempt, 1, 'a permanent failure: never retried');
  await nextPdfJobCompletes();
});

test('a truncated PDF fails permanently, then the next job completes', async () => {
  const whole = cairoPdf('whole.pdf', ['a', 'b', 'c']);
  const job = await run(whole.subarray(0, Math.floor(whole.length / 2)), {}, 'cut.pdf');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'invalid_input: the PDF is truncated: no %%EOF in its last 1024 bytes');
  assert.equal(job.attempt, 1);
  await nextPdfJobCompletes();
});

test('a page tree that points to itself fails permanently inside the limits, then the next job completes', async () => {
  // The Pages node's Kids hold itself, and a child Pages node holds its
  // parent: a reader that follows Kids without a guard never ends.
  const bytes = handPdf([
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[2 0 R 3 0 R]/Count 2>>',
    '<</Type/Pages/Parent 2 0 R/Kids[3 0 R 2 0 R]/Count 1>>',
  ]);
  const t0 = Date.now();
  const job = await run(bytes, {}, 'loop.pdf');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.equal(job.error, 'invalid_input: the PDF\'s page tree does not lead to page 1 of the 2 it counts '
    + '(it is damaged or loops on itself)');
  assert.equal(job.attempt, 1);
  assert.ok(Date.now() - t0 < 30000, 'at once, far inside the limits');
  await nextPdfJobCompletes();
});

test('arrays nested 200,000 deep fail permanently as damaged, then the next job completes', async () => {
  // Poppler stops nesting at its own depth and reads on, one syntax error
  // per bracket: past 1,000 of them pdf.text fails the job.
  const body = `BT /F1 12 Tf 72 720 Td (deep) Tj ET ${'['.repeat(200000)}${']'.repeat(200000)}`;
  const job = await run(onePage(`<</Length ${body.length}>>\nstream\n${body}\nendstream`), {}, 'deep.pdf');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^invalid_input: the PDF is damaged or hostile: poppler reported \d+ syntax errors, over 1000 \(the first: Syntax error at position \d+: Unknown operator ']'\)$/);
  assert.equal(job.attempt, 1);
  await nextPdfJobCompletes();
});

test('a stream that inflates to 1 GiB of one string fails permanently at the memory limit, then the next job completes', async () => {
  // 1 MB of Flate that poppler inflates into one text string: it grows
  // until the child's memory limit (256 MiB) stops it, as an allocation
  // that fails under RLIMIT_AS (C++'s new-handler reports it) or the
  // worker's RSS watch, never as a crash.
  const z = execFileSync('/usr/bin/python3', ['-c', `
import sys, zlib
c = zlib.compressobj(9)
out = [c.compress(b'BT /F1 12 Tf 72 720 Td (')]
block = b'A' * (1 << 20)
for _ in range(1024): out.append(c.compress(block))
out += [c.compress(b') Tj ET'), c.flush()]
sys.stdout.buffer.write(b''.join(out))
`], { maxBuffer: 8 << 20 });
  assert.ok(z.length < 2 << 20, `${z.length} bytes`);
  const stream = Buffer.concat([Buffer.from(`<</Length ${z.length}/Filter/FlateDecode>>\nstream\n`, 'latin1'), z,
    Buffer.from('\nendstream', 'latin1')]);
  const job = await run(onePage(stream), {}, 'inflate.pdf');
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /^memory_limit: /);
  assert.equal(job.attempt, 1);
  await nextPdfJobCompletes();
});
