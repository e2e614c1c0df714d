// GET /api/jobs/{id}/errors and /api/jobs/{id}/errors.csv against the
// stack.  The rows of job_errors are written straight into PostgreSQL for
// a real job of the owner: on the i11-csv branch no processor writes them
// yet (the sandbox's runtime does, after the merge; the end-to-end runs of
// csv.validate are in validate_e2e.test.mjs).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { assertError, auth, createJob, GATEWAY, jobEnded, OTHER_KEY, parseCsv, upload } from './helpers.mjs';

const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.RAP_PG_PORT || '5439',
  '-U', 'postgres', '-d', 'rap', '-Atq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
const pageSchema = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(readFileSync(
  new URL('../../proto/schemas/job-errors-page.json', import.meta.url), 'utf8')));

const N = 2500; // five pages of the CSV report
let jobId;

const get = (path, key) => fetch(`${GATEWAY}/api/jobs/${jobId}${path}`, { headers: auth(key) });
const answer = async (res) => ({ status: res.status, body: await res.json() });

before(async () => {
  const up = await upload(Buffer.from('errors endpoint input\n'));
  const created = await createJob({ object_key: up.body.object_key, type: 'test.fault', params: { mode: 'succeed' } });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  jobId = created.body.job_id;
  assert.equal((await jobEnded(jobId)).status, 'COMPLETED');
  // Rows 2..N+1 get one error each, every fifth row a second; messages and
  // values with commas, quotes and line breaks; columns a/b, two codes.
  psql(`INSERT INTO job_errors (job_id, row_no, column_name, code, message, value)
        SELECT '${jobId}', g + 1, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END,
               CASE WHEN g % 3 = 0 THEN 'ragged_row' ELSE 'required' END,
               'message ' || g || ', with "quotes"' || CASE WHEN g % 7 = 0 THEN E'\\r\\nand a line' ELSE '' END,
               CASE WHEN g % 4 = 0 THEN NULL ELSE 'v,' || g END
        FROM generate_series(1, ${N}) g`);
  psql(`INSERT INTO job_errors (job_id, row_no, column_name, code, message, value)
        SELECT '${jobId}', g + 1, 'c', 'duplicate', 'second error of row ' || (g + 1), NULL
        FROM generate_series(5, ${N}, 5) g`);
});

test('the listing pages through every error once, in row order, with the total on the first page', async () => {
  const seen = [];
  let after = null, pages = 0;
  do {
    const res = await get(`/errors?limit=1000${after ? `&after=${after}` : ''}`);
    assert.equal(res.status, 200);
    const page = await res.json();
    assert.ok(pageSchema(page), JSON.stringify(pageSchema.errors));
    // Counted once, on the first page: later pages cost their own rows.
    assert.equal(page.total, after ? null : N + N / 5);
    seen.push(...page.errors);
    after = page.next;
    pages++;
  } while (after);
  assert.equal(pages, 3);
  assert.equal(seen.length, N + N / 5);
  assert.equal(new Set(seen.map((e) => e.id)).size, seen.length, 'no error twice');
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1], seen[i]];
    assert.ok(a.row < b.row || (a.row === b.row && a.id < b.id), `order at ${i}`);
  }
  const e7 = seen.find((e) => e.row === 8 && e.column === 'b');
  assert.equal(e7.message, 'message 7, with "quotes"\r\nand a line');
  assert.equal(e7.value, 'v,7');
});

test('filters by column and by code, and both', async () => {
  const total = async (q) => (await (await get(`/errors?limit=1&${q}`)).json()).total;
  assert.equal(await total('column=a'), N / 2);
  assert.equal(await total('code=duplicate'), N / 5);
  assert.equal(await total('column=c&code=duplicate'), N / 5);
  assert.equal(await total('column=a&code=duplicate'), 0);
  const page = await (await get('/errors?code=ragged_row&limit=5')).json();
  assert.ok(page.errors.every((e) => e.code === 'ragged_row'));
  assert.equal(page.errors.length, 5);
  assert.match(page.next, /^\d+:\d+$/);
});

test('bad cursors and limits are 400, another owner\'s job is 404', async () => {
  for (const q of ['after=x', 'after=1', 'after=-1:2', 'limit=0', 'limit=1001', 'limit=ten'])
    assertError(await answer(await get(`/errors?${q}`)), 400, 'bad_request');
  assertError(await answer(await get('/errors', OTHER_KEY)), 404, 'not_found');
  assertError(await answer(await get('/errors.csv', OTHER_KEY)), 404, 'not_found');
  const none = await fetch(`${GATEWAY}/api/jobs/00000000-0000-4000-8000-000000000000/errors.csv`, { headers: auth() });
  assertError(await answer(none), 404, 'not_found');
});

test('the CSV report holds every error, streamed, quoted as RFC 4180', async () => {
  const res = await get('/errors.csv');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/csv/);
  assert.match(res.headers.get('content-disposition'), new RegExp(`job-${jobId}-errors\\.csv`));
  assert.equal(res.headers.get('content-length'), null, 'streamed, not buffered');
  const records = parseCsv(await res.text());
  assert.deepEqual(records[0], ['row', 'column', 'code', 'message', 'value']);
  assert.equal(records.length, 1 + N + N / 5);
  const r8 = records.find((r) => r[0] === '8' && r[1] === 'b');
  assert.deepEqual(r8, ['8', 'b', 'required', 'message 7, with "quotes"\r\nand a line', 'v,7']);
  const filtered = parseCsv(await (await get('/errors.csv?code=duplicate')).text());
  assert.equal(filtered.length, 1 + N / 5);
});

test('the CSV report neutralises values a spreadsheet would run as formulas', async () => {
  const up = await upload(Buffer.from('formula input\n'));
  const created = await createJob({ object_key: up.body.object_key, type: 'test.fault', params: { mode: 'succeed' } });
  const id = created.body.job_id;
  assert.equal((await jobEnded(id)).status, 'COMPLETED');
  psql(`INSERT INTO job_errors (job_id, row_no, column_name, code, message, value) VALUES
        ('${id}', 2, 'a', 'required', 'plain', '=HYPERLINK("http://127.0.0.1/x")'),
        ('${id}', 3, 'a', 'required', '+1', '@SUM(A1)'),
        ('${id}', 4, 'a', 'required', 'ok', '-2')`);
  const res = await fetch(`${GATEWAY}/api/jobs/${id}/errors.csv`, { headers: auth() });
  const records = parseCsv(await res.text());
  assert.deepEqual(records.slice(1).map((r) => [r[3], r[4]]), [
    ['plain', `'=HYPERLINK("http://127.0.0.1/x")`],
    ["'+1", "'@SUM(A1)"],
    ['ok', "'-2"],
  ]);
  // The JSON listing keeps the values as they are.
  const page = await (await fetch(`${GATEWAY}/api/jobs/${id}/errors`, { headers: auth() })).json();
  assert.equal(page.errors[0].value, '=HYPERLINK("http://127.0.0.1/x")');
});
