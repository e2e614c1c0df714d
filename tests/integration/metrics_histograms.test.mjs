// The latency histograms, build_info and the seeds' gauges (issue 16,
// point 2) on each service's own /metrics (the admin ports, as Prometheus
// scrapes them): they appear, and they count exactly the requests and jobs
// a test makes. The files run one at a time, so nothing else talks to the
// stack meanwhile; the waits are bounded (a service counts a request when
// it is done with it, just after the answer goes out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, NOTIFIER_URLS, TUS, auth, createJob, getJob, jobEnded, upload, waitFor }
  from './helpers.mjs';

const errCode = (b) => b?.code; // RFC 9457 problem details (docs/errors.md)
const port = (v, d) => Number(process.env[v] || d);
const UPLOAD_ADMIN = `http://127.0.0.1:${port('RAP_UPLOAD_ADMIN_PORT', 8180)}`;
const JOB_ADMIN = `http://127.0.0.1:${port('RAP_JOB_ADMIN_PORT', 8181)}`;
const WORKERS = Array.from({ length: Number(process.env.RAP_WORKERS || 2) },
  (_, i) => `http://127.0.0.1:${port('RAP_WORKER_PORT', 8104) + i}`);

async function scrape(url) {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200, url);
  return r.text();
}

// The value of one series (name and labels exactly as rendered), 0 if absent.
function value(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

// The same series summed over several services.
async function total(urls, series) {
  const texts = await Promise.all(urls.map(scrape));
  return texts.reduce((a, t) => a + value(t, series), 0);
}

// Waits until the series, summed over urls, is want; answers it.
async function reaches(urls, series, want) {
  let seen;
  try {
    await waitFor(`${series} = ${want}`, async () => (seen = await total(urls, series)) === want,
      10000, 50);
  } catch (e) {
    throw new Error(`${e.message} (last seen ${seen})`);
  }
  return seen;
}

const histo = (name, labels) => `${name}_count{${labels}}`;
const DUR = 'rap_http_request_duration_seconds';

test('rap_build_info is 1, once, in every service, with its version, commit and name', async () => {
  const services = [[UPLOAD_ADMIN, 'upload-api'], [JOB_ADMIN, 'job-api'],
    ...WORKERS.map((u) => [u, 'worker']), ...NOTIFIER_URLS.map((u) => [u, 'notifier'])];
  for (const [url, name] of services) {
    const lines = (await scrape(url)).split('\n').filter((l) => l.startsWith('rap_build_info{'));
    assert.equal(lines.length, 1, `${url}: ${lines.join(' | ')}`);
    assert.match(lines[0],
      new RegExp(`^rap_build_info\\{version="\\d+\\.\\d+\\.\\d+",commit="([0-9a-f]{7,40}|unknown)",service="${name}"\\} 1$`),
      url);
  }
});

test('job-api times each request by route pattern and status class: three status reads, one miss', async () => {
  const key = (await upload(Buffer.from('histogram input'))).body.object_key;
  const job = await createJob({ object_key: key, type: 'noop' });
  assert.equal(job.status, 202, JSON.stringify(job.body));
  await jobEnded(job.body.job_id, 30000);
  const ok = histo(DUR, 'method="GET",route="/jobs/{id}",class="2xx"');
  const miss = histo(DUR, 'method="GET",route="/jobs/{id}",class="4xx"');
  const text = await scrape(JOB_ADMIN);
  const [ok0, miss0] = [value(text, ok), value(text, miss)];
  for (let i = 0; i < 3; i++) assert.equal((await getJob(job.body.job_id)).status, 200);
  const gone = await getJob('00000000-0000-4000-8000-000000000000');
  assert.equal(gone.status, 404);
  assert.equal(errCode(gone.body), 'not_found');
  await reaches([JOB_ADMIN], ok, ok0 + 3);
  await reaches([JOB_ADMIN], miss, miss0 + 1);
  const after = await scrape(JOB_ADMIN);
  // The buckets are cumulative and end in +Inf = count; no raw path is a label.
  assert.equal(value(after, `${DUR}_bucket{method="GET",route="/jobs/{id}",class="2xx",le="+Inf"}`),
    value(after, ok));
  assert.ok(value(after, `${DUR}_bucket{method="GET",route="/jobs/{id}",class="2xx",le="10"}`)
    >= ok0 + 3, 'three reads under 10 s');
  assert.ok(!after.includes(job.body.job_id), 'a job id is never a label');
  assert.ok(value(after, `${DUR}_sum{method="GET",route="/jobs/{id}",class="2xx"}`) > 0);
});

test('upload-api times a multipart upload: its duration, its acknowledgement and its throughput', async () => {
  const labels = 'method="POST",route="/uploads"';
  const series = [histo(DUR, `${labels},class="2xx"`),
    histo('rap_http_request_ack_seconds', labels),
    histo('rap_upload_throughput_bytes_per_second', 'protocol="multipart"')];
  const text = await scrape(UPLOAD_ADMIN);
  const base = series.map((s) => value(text, s));
  const r = await upload(Buffer.alloc(256 * 1024, 7));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  for (let i = 0; i < series.length; i++) await reaches([UPLOAD_ADMIN], series[i], base[i] + 1);
});

test('upload-api counts the throughput of a tus PATCH, and job-api the stored bytes', async () => {
  const tput = histo('rap_upload_throughput_bytes_per_second', 'protocol="tus"');
  const ack = histo('rap_http_request_ack_seconds', 'method="PATCH",route="/files/{id}"');
  const text = await scrape(UPLOAD_ADMIN);
  const [t0, a0] = [value(text, tput), value(text, ack)];
  const stored0 = value(await scrape(JOB_ADMIN), 'rap_stored_upload_bytes');
  const body = Buffer.alloc(100 * 1024, 3);
  const c = await fetch(`${GATEWAY}/api/files`, {
    method: 'POST',
    headers: { ...TUS, ...auth(), 'Upload-Length': String(body.length),
      'Upload-Metadata': `filename ${Buffer.from('t.bin').toString('base64')}` },
  });
  assert.equal(c.status, 201);
  const p = await fetch(new URL(c.headers.get('location'), GATEWAY), {
    method: 'PATCH',
    headers: { ...TUS, ...auth(), 'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream' },
    body,
  });
  assert.equal(p.status, 204);
  await reaches([UPLOAD_ADMIN], tput, t0 + 1);
  await reaches([UPLOAD_ADMIN], ack, a0 + 1);
  // job-api sums the uploads table every RAP_STORAGE_STATS_MS.
  await waitFor('rap_stored_upload_bytes counts the upload', async () =>
    value(await scrape(JOB_ADMIN), 'rap_stored_upload_bytes') >= stored0 + body.length, 10000, 100);
});

test('the worker times each attempt by type and outcome, and the wait in the queue', async () => {
  const key = (await upload(Buffer.from('worker histogram input'))).body.object_key;
  const cases = [
    // noop: a quick type, claimed and completed in batches.
    { type: 'noop', params: {}, outcome: 'completed', status: 'COMPLETED' },
    // test.fault: one at a time, and a permanent failure.
    { type: 'test.fault', params: { mode: 'permanent' }, outcome: 'failed', status: 'FAILED' },
  ];
  for (const c of cases) {
    const labels = `type="${c.type}",outcome="${c.outcome}"`;
    const ran = histo('rap_worker_job_duration_seconds', labels);
    const queued = histo('rap_worker_job_queued_seconds', `type="${c.type}"`);
    const sums = [`rap_worker_job_duration_seconds_sum{${labels}}`,
      `rap_worker_job_queued_seconds_sum{type="${c.type}"}`];
    const [r0, q0] = [await total(WORKERS, ran), await total(WORKERS, queued)];
    const s0 = await Promise.all(sums.map((x) => total(WORKERS, x)));
    const started = Date.now();
    const r = await createJob({ object_key: key, type: c.type, params: c.params });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal((await jobEnded(r.body.job_id, 30000)).status, c.status);
    await reaches(WORKERS, ran, r0 + 1);
    await reaches(WORKERS, queued, q0 + 1);
    // Sane values: each observation is no longer than the test waited.
    const waited = (Date.now() - started) / 1000;
    for (let i = 0; i < sums.length; i++) {
      const d = (await total(WORKERS, sums[i])) - s0[i];
      assert.ok(d >= 0 && d <= waited, `${sums[i]} grew by ${d} s in ${waited} s`);
    }
  }
});

test('rap_worker_busy counts a slot while a job runs, and rap_worker_slots the slots', async () => {
  const slots = await total(WORKERS, 'rap_worker_slots');
  assert.ok(slots >= WORKERS.length, `${slots} slots`);
  const key = (await upload(Buffer.from('busy input'))).body.object_key;
  const base = await total(WORKERS, 'rap_worker_busy');
  const r = await createJob({ object_key: key, type: 'test.fault', params: { mode: 'sleep', seconds: 3 } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitFor('a slot busy', async () => (await total(WORKERS, 'rap_worker_busy')) > base, 15000, 50);
  assert.equal((await jobEnded(r.body.job_id, 30000)).status, 'COMPLETED');
  await reaches(WORKERS, 'rap_worker_busy', base);
});
