// Uploads: several files at once, each resumable over tus 1.0 with
// tus-js-client (web/vendor/tus.min.js, the version package.json pins),
// each with its own progress bar; then one job per file.
//
// A file's upload URL is kept in localStorage under rap.tus:KEY:NAME:SIZE:
// MODIFIED, so choosing the same file again after a reload, a closed tab or
// a crash resumes it (tus-js-client asks HEAD for the stored offset) instead
// of starting over; it is forgotten once the job is created.  A broken
// connection or a busy server (409, 423, 5xx) is retried by tus-js-client
// with growing delays from the offset the server stored.
import { $, api, ApiError, apiKey, authHeader, el, errorText, fmtBytes } from './lib.js';

const CHUNK = Number(localStorage.getItem('rap.tus.chunk')) || 32 * 1024 * 1024;
const RETRY_DELAYS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
const PARALLEL = 3; // files sent at once

const storeKey = (file) => `rap.tus:${apiKey()}:${file.name}:${file.size}:${file.lastModified}`;

// A tus-js-client error as the server's words when it answered.
function tusErrorText(err) {
  const res = err.originalResponse;
  if (res && res.getStatus()) {
    let body = null;
    try { body = JSON.parse(res.getBody()); } catch { /* not JSON */ }
    return errorText(res.getStatus(), body);
  }
  return /network|connection/i.test(String(err.message)) || !res
    ? 'the connection to the server failed' : err.message;
}

// Sends one file; answers its upload record {upload_id, object_key, ...}
// once the server holds every byte.
function sendFile(file, jobType, onProgress) {
  const key = storeKey(file);
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      endpoint: new URL('/api/files/', location.href).href,
      uploadUrl: localStorage.getItem(key),
      chunkSize: CHUNK,
      retryDelays: RETRY_DELAYS,
      storeFingerprintForResuming: false, // rap.tus: keys instead
      headers: authHeader(),
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream', job_type: jobType },
      onUploadUrlAvailable: () => localStorage.setItem(key, new URL(upload.url, location.href).href),
      onProgress: (sent, total) => onProgress(sent, total),
      onError: (err) => reject(new Error(tusErrorText(err))),
      onSuccess: async () => {
        try {
          const res = await fetch(`/api/uploads/${upload.url.split('/').pop()}`, { headers: authHeader() });
          const body = await res.json().catch(() => null);
          if (!res.ok) throw new ApiError(res.status, body);
          resolve({ up: body, done: () => localStorage.removeItem(key) });
        } catch (e) {
          reject(e);
        }
      },
    });
    upload.start();
  });
}

// A short, stable tag of the params text, for the Idempotency-Key: the same
// upload with other params is another job.
function tag(text) {
  let h = 5381;
  for (let i = 0; i < text.length; i++) h = ((h * 33) ^ text.charCodeAt(i)) >>> 0;
  return h.toString(36);
}

// One row of the file list: name, bar, what happens.
function fileRow(file) {
  const bar = el('progress', { max: 100, value: 0, 'aria-label': `upload of ${file.name}`, 'data-testid': 'file-progress' });
  const note = el('span', { className: 'muted', 'data-testid': 'file-note' }, 'waiting');
  const li = el('li', { className: 'file-row', dataset: { file: file.name } },
    el('span', { className: 'file-name' }, `${file.name} (${fmtBytes(file.size)})`), bar, note);
  $('#file-list').append(li);
  return { li, bar, note };
}

// Runs fn over items, at most n at a time.
async function pool(items, n, fn) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
}

// Uploads the chosen files and creates a job for each with the chosen type
// and params; onJob(job_id, type, filename, status) for each created job.
// Answers the errors' texts (empty when all went well).
export async function uploadAll(files, type, paramsText, onJob) {
  let params;
  try {
    params = paramsText ? JSON.parse(paramsText) : undefined;
  } catch (e) {
    return [`the params are not JSON: ${e.message}`];
  }
  const total = files.reduce((s, f) => s + f.size, 0);
  const sent = new Array(files.length).fill(0);
  const overall = $('#upload-progress');
  const stats = $('#upload-stats');
  const started = performance.now();
  overall.hidden = false;
  overall.value = 0;
  $('#file-list').replaceChildren();
  const errors = [];
  const showOverall = () => {
    const bytes = sent.reduce((a, b) => a + b, 0);
    const secs = (performance.now() - started) / 1000;
    overall.value = total ? Math.floor((bytes / total) * 100) : 100;
    stats.textContent = `${overall.value}% · ${fmtBytes(bytes)} of ${fmtBytes(total)} · `
      + `${fmtBytes(bytes / Math.max(secs, 0.001))}/s`;
  };
  await pool(files, PARALLEL, async (file, i) => {
    const row = fileRow(file);
    try {
      row.note.textContent = 'uploading';
      const { up, done } = await sendFile(file, type, (s, t) => {
        sent[i] = s;
        row.bar.value = t ? Math.floor((s / t) * 100) : 100;
        row.note.textContent = `${row.bar.value}%`;
        showOverall();
      });
      sent[i] = file.size;
      row.bar.value = 100;
      showOverall();
      const body = { object_key: up.object_key, type };
      if (params !== undefined) body.params = params;
      // The same key for the same upload and params: a retry after a lost
      // answer, or after a reload, gets the job that was made.
      const created = await api('POST', '/api/jobs', body,
        { 'Idempotency-Key': `web-${up.upload_id}-${type}-${tag(paramsText)}` });
      done();
      row.note.textContent = `100% · job ${created.job_id}`;
      onJob(created.job_id, type, up.filename, created.status);
    } catch (e) {
      row.note.textContent = e.message;
      row.li.classList.add('failed');
      errors.push(files.length > 1 ? `${file.name}: ${e.message}` : e.message);
    }
  });
  if (!errors.length) stats.textContent = `uploaded ${fmtBytes(total)} in ${files.length} file(s)`;
  return errors;
}
