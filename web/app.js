// The platform's web UI: resumable upload with progress, create the job, follow it live
// over WebSocket (with replay on reconnect), no framework, no build step.
'use strict';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED']);
const $ = (sel) => document.querySelector(sel);
const jobs = new Map(); // job_id -> { el, seen: Set(event_id), lastEvent }

const keyInput = $('#api-key');
keyInput.value = localStorage.getItem('rap.apiKey') || 'dev-key';
keyInput.addEventListener('change', () => {
  localStorage.setItem('rap.apiKey', keyInput.value);
  socket.resubscribe();
  loadJobTypes();
});
const apiKey = () => keyInput.value.trim();

function showError(msg) {
  const box = $('#error');
  box.textContent = msg;
  box.hidden = !msg;
}

// An error answer is RFC 9457 problem details: {type, title, status,
// detail, code, request_id} (docs/errors.md).
function errorText(status, body) {
  if (body && body.code && (body.detail || body.title)) {
    return `${status} ${body.code}: ${body.detail || body.title}`;
  }
  return `request failed with HTTP ${status}`;
}

function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

// Resumable uploads over tus 1.0 at /api/files/ (docs/uploads.md). The file
// goes in PATCHes of CHUNK bytes (XMLHttpRequest, for upload.onprogress,
// which fetch() lacks). A broken connection, a restarting server or a busy
// upload (409, 423, 5xx) is waited out: HEAD tells the offset the server
// stored and the upload goes on from there. The upload's URL is kept in
// localStorage, so choosing the same file again after a reload, a closed
// tab or a crash resumes it instead of starting over.
const TUS = { 'Tus-Resumable': '1.0.0' };
const CHUNK = Number(localStorage.getItem('rap.tus.chunk')) || 32 * 1024 * 1024;
const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
const GIVE_UP_MS = 10 * 60 * 1000; // without progress

class UploadError extends Error {
  constructor(message, { status = 0, retry = false } = {}) {
    super(message);
    this.status = status;
    this.retry = retry;
  }
}

const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const storeKey = (file) => `rap.tus:${apiKey()}:${file.name}:${file.size}:${file.lastModified}`;

async function answerError(res) {
  let body = null;
  try { body = await res.json(); } catch { /* HEAD, or not JSON */ }
  const retry = res.status >= 500 || res.status === 409 || res.status === 423 || res.status === 429;
  return new UploadError(errorText(res.status, body), { status: res.status, retry });
}

async function tusFetch(method, url, headers = {}) {
  let res;
  try {
    res = await fetch(url, { method, headers: { ...TUS, Authorization: `Bearer ${apiKey()}`, ...headers } });
  } catch {
    throw new UploadError('the connection to the server failed', { retry: true });
  }
  if (!res.ok) throw await answerError(res);
  return res;
}

async function createUpload(file, jobType) {
  const meta = `filename ${b64(file.name)},filetype ${b64(file.type || 'application/octet-stream')},job_type ${b64(jobType)}`;
  const res = await tusFetch('POST', '/api/files/', { 'Upload-Length': String(file.size), 'Upload-Metadata': meta });
  return new URL(res.headers.get('Location'), location.href).href;
}

// The offset the server stored, or null when it no longer knows the upload.
async function storedOffset(url, file) {
  try {
    const res = await tusFetch('HEAD', url);
    if (Number(res.headers.get('Upload-Length')) !== file.size) return null;
    return Number(res.headers.get('Upload-Offset'));
  } catch (err) {
    if (err.status === 404 || err.status === 410) return null;
    throw err;
  }
}

function patch(url, file, offset, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const end = Math.min(offset + CHUNK, file.size);
    xhr.open('PATCH', url);
    for (const [k, v] of Object.entries(TUS)) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Authorization', `Bearer ${apiKey()}`);
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => onProgress(offset + e.loaded);
    xhr.onload = () => {
      if (xhr.status === 204) { resolve(Number(xhr.getResponseHeader('Upload-Offset'))); return; }
      const s = xhr.status;
      reject(new UploadError(errorText(s, xhr.response),
        { status: s, retry: s >= 500 || s === 409 || s === 423 || s === 429 }));
    };
    xhr.onerror = () => reject(new UploadError('the connection broke mid-upload', { retry: true }));
    xhr.send(file.slice(offset, end));
  });
}

function progressView(file) {
  const bar = $('#upload-progress');
  const stats = $('#upload-stats');
  let base = 0, started = performance.now();
  bar.hidden = false;
  bar.value = 0;
  return {
    from(offset) { base = offset; started = performance.now(); },
    show(sent) {
      const secs = (performance.now() - started) / 1000;
      const rate = (sent - base) / Math.max(secs, 0.001);
      const eta = rate > 0 ? (file.size - sent) / rate : 0;
      bar.value = file.size ? Math.floor((sent / file.size) * 100) : 100;
      stats.textContent = `${bar.value}% · ${fmtBytes(sent)} of ${fmtBytes(file.size)} · `
        + `${fmtBytes(rate)}/s · ${Math.ceil(eta)} s left`;
    },
    note(text) { stats.textContent = text; },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends the file (resuming a stored upload of it) and answers its upload
// record: {upload_id, object_key, size, sha256, filename, ...}.
async function uploadFile(file, jobType) {
  const key = storeKey(file);
  const view = progressView(file);
  let url = localStorage.getItem(key);
  let offset = url ? await storedOffset(url, file) : null;
  if (offset === null) {
    url = await createUpload(file, jobType);
    localStorage.setItem(key, url);
    offset = 0;
  } else {
    view.note(`resuming at ${fmtBytes(offset)} of ${fmtBytes(file.size)}`);
  }
  view.from(offset);
  let tries = 0, lastProgress = Date.now();
  while (offset < file.size) {
    try {
      const next = await patch(url, file, offset, (sent) => view.show(sent));
      if (next > offset) { tries = 0; lastProgress = Date.now(); }
      offset = next;
    } catch (err) {
      if (!err.retry || Date.now() - lastProgress > GIVE_UP_MS) {
        if (err.status === 404 || err.status === 410 || err.status === 415) localStorage.removeItem(key);
        throw err;
      }
      const wait = RETRY_MS[Math.min(tries++, RETRY_MS.length - 1)];
      view.note(`${err.message}; retrying in ${Math.ceil(wait / 1000)} s`);
      await sleep(wait);
      const stored = await storedOffset(url, file).catch((e) => (e.retry ? offset : Promise.reject(e)));
      if (stored === null) { localStorage.removeItem(key); throw new UploadError('the server no longer has this upload; send the file again'); }
      if (stored > offset) lastProgress = Date.now();
      offset = stored;
      view.from(offset);
    }
  }
  view.show(file.size);
  const res = await fetch(`/api/uploads/${url.split('/').pop()}`, { headers: { Authorization: `Bearer ${apiKey()}` } });
  if (!res.ok) throw await answerError(res);
  const up = await res.json();
  $('#upload-stats').textContent = `uploaded ${fmtBytes(up.size)}`;
  return { up, done: () => localStorage.removeItem(key) };
}

async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${apiKey()}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(errorText(res.status, json));
  return json;
}

// The job types this key may use (GET /api/job-types): the select lists
// them, and the params field says which params the chosen one takes.
const jobTypes = new Map();
async function loadJobTypes() {
  try {
    const { job_types: list } = await api('GET', '/api/job-types');
    const select = $('#job-type');
    const chosen = select.value;
    select.replaceChildren();
    for (const t of list) {
      jobTypes.set(t.name, t);
      const o = document.createElement('option');
      o.value = t.name;
      o.textContent = `${t.name}: ${t.summary}`;
      select.append(o);
    }
    if (jobTypes.has(chosen)) select.value = chosen;
    showTypeHelp();
  } catch (e) {
    // Without the list the select keeps file.inspect; the upload works.
    $('#job-type-help').textContent = `job types unavailable: ${e.message}`;
  }
}

function showTypeHelp() {
  const t = jobTypes.get($('#job-type').value);
  const props = t && t.params && t.params.properties ? Object.keys(t.params.properties) : [];
  $('#job-type-help').textContent = !t ? '' : props.length ? props.join(', ') : 'none';
}
$('#job-type').addEventListener('change', showTypeHelp);

// A short, stable tag of the params text, for the Idempotency-Key: the same
// upload with other params is another job.
function tag(text) {
  let h = 5381;
  for (let i = 0; i < text.length; i++) h = ((h * 33) ^ text.charCodeAt(i)) >>> 0;
  return h.toString(36);
}

// Where a running job stands: pushed as job.progress (at most about once a
// second), or read from the job row on a refresh.
function applyProgress(jobId, p) {
  const job = jobs.get(jobId);
  if (!job || TERMINAL.has(job.status)) return;
  const box = job.el.querySelector('.job-progress');
  box.querySelector('progress').value = p.progress || 0;
  const parts = [];
  if (p.stage) parts.push(p.stage);
  parts.push(`${Math.floor((p.progress || 0) * 100)}%`);
  if (p.rows != null) parts.push(`${Number(p.rows).toLocaleString()} rows`);
  if (p.estimated_completion) {
    parts.push(`done about ${new Date(p.estimated_completion).toLocaleTimeString()}`);
  }
  box.querySelector('[data-testid=job-stage]').textContent = parts.join(' · ');
  box.hidden = false;
}

// The whole error report of a job, saved as a file (it needs the API key,
// so it is fetched, not linked).
async function downloadErrors(jobId) {
  try {
    const res = await fetch(`/api/jobs/${jobId}/errors.csv`,
      { headers: { Authorization: `Bearer ${apiKey()}` } });
    if (!res.ok) throw new Error(errorText(res.status, await res.json().catch(() => null)));
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = `${jobId}-errors.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  } catch (e) {
    showError(e.message);
  }
}

function addJobCard(jobId, type, filename) {
  const el = $('#job-template').content.firstElementChild.cloneNode(true);
  el.dataset.jobId = jobId;
  el.querySelector('.job-id').textContent = jobId;
  el.querySelector('.job-meta').textContent = `${type} · ${filename}`;
  $('#jobs').prepend(el);
  $('#no-jobs').hidden = true;
  jobs.set(jobId, { el, seen: new Set(), lastEvent: 0, status: null });
  el.querySelector('.row-errors').addEventListener('click', () => downloadErrors(jobId));
  return el;
}

function setStatus(job, status) {
  const badge = job.el.querySelector('[data-testid=job-status]');
  badge.textContent = status;
  badge.className = `badge ${status}`;
  job.status = status;
  if (TERMINAL.has(status)) job.el.querySelector('.job-progress').hidden = true;
}

// Applies one transition (pushed, replayed or fetched); duplicates are dropped.
function applyEvent(jobId, ev) {
  const job = jobs.get(jobId);
  if (!job || job.seen.has(ev.event_id)) return;
  job.seen.add(ev.event_id);
  job.lastEvent = Math.max(job.lastEvent, ev.event_id);
  const items = [...job.el.querySelectorAll('.timeline li')];
  const li = document.createElement('li');
  li.dataset.testid = 'timeline-item';
  li.setAttribute('data-testid', 'timeline-item');
  li.dataset.eventId = ev.event_id;
  const at = new Date(ev.at).toLocaleTimeString();
  li.textContent = `${ev.from || '∅'} → ${ev.to} · ${at} · attempt ${ev.attempt}`
    + (ev.detail ? ` · ${ev.detail}` : '');
  const after = items.find((x) => Number(x.dataset.eventId) > ev.event_id);
  job.el.querySelector('.timeline').insertBefore(li, after || null);
  if (ev.event_id === job.lastEvent) setStatus(job, ev.to);
  if (TERMINAL.has(ev.to)) refreshJob(jobId);
}

// Reads the job (result, error) and fills any gap in the timeline.
async function refreshJob(jobId) {
  try {
    const j = await api('GET', `/api/jobs/${jobId}`);
    for (const e of j.events) applyEvent(jobId, e);
    const job = jobs.get(jobId);
    setStatus(job, j.status);
    if (j.status === 'PROCESSING' && j.stage) {
      applyProgress(jobId, { progress: j.progress, stage: j.stage, rows: j.rows_done,
        estimated_completion: j.estimated_completion });
    }
    const dl = job.el.querySelector('.result');
    if (j.status === 'COMPLETED' && j.result) {
      dl.replaceChildren();
      for (const [k, v] of Object.entries(j.result)) {
        const dt = document.createElement('dt');
        const dd = document.createElement('dd');
        dt.textContent = k;
        dd.textContent = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
        dd.dataset.field = k;
        dl.append(dt, dd);
      }
      dl.hidden = false;
      job.el.querySelector('.row-errors').hidden = !(j.result.rows_failed > 0
        || (j.result.row_errors && j.result.row_errors.stored > 0));
    }
    const err = job.el.querySelector('.job-error');
    err.textContent = j.error || '';
    err.hidden = !j.error;
  } catch (e) {
    showError(e.message);
  }
}

// One WebSocket for every job of this tab's owner; reconnects with backoff
// and resumes from the last event seen (the notifier replays the gap).
const socket = {
  ws: null,
  delay: 500,
  lastEvent: 0,
  connect() {
    const state = $('[data-testid=ws-state]');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    this.ws = new WebSocket(url);
    this.ws.onopen = () => {
      this.delay = 500;
      state.textContent = 'live';
      state.className = 'ws live';
      this.resubscribe();
      for (const id of jobs.keys()) refreshJob(id);
    };
    this.ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'job.status') {
        this.lastEvent = Math.max(this.lastEvent, msg.event_id);
        applyEvent(msg.job_id, msg);
      } else if (msg.type === 'job.progress') {
        applyProgress(msg.job_id, msg);
      } else if (msg.type === 'error') {
        // Shown beside the connection state, not over an upload's error.
        const state = $('[data-testid=ws-state]');
        state.textContent = `live updates refused: ${msg.message}`;
        state.className = 'ws down';
      } else if (msg.type === 'subscribed') {
        const state = $('[data-testid=ws-state]');
        state.textContent = 'live';
        state.className = 'ws live';
      }
    };
    this.ws.onclose = (ev) => {
      // 4008: this page fell too far behind; the notifier says where to
      // resume (it may be before the newest event seen: the ones dropped).
      if (ev.code === 4008) {
        try {
          const since = JSON.parse(ev.reason).since;
          if (Number.isInteger(since) && (!this.lastEvent || since < this.lastEvent)) this.lastEvent = since;
        } catch { /* a reason that is not JSON: resume from the newest seen */ }
      }
      state.textContent = 'reconnecting…';
      state.className = 'ws down';
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  },
  resubscribe() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const msg = { type: 'subscribe', api_key: apiKey() };
    if (this.lastEvent) msg.since = this.lastEvent;
    this.ws.send(JSON.stringify(msg));
  },
};

$('#upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('#file').files[0];
  showError('');
  if (!file) { showError('Choose a file first.'); return; }
  const button = $('#upload');
  button.disabled = true;
  try {
    const type = $('#job-type').value;
    const text = $('#job-params').value.trim();
    let params;
    try {
      params = text ? JSON.parse(text) : undefined;
    } catch (e) {
      throw new Error(`the params are not JSON: ${e.message}`);
    }
    const { up, done } = await uploadFile(file, type);
    // The same key for the same upload and params: a retry after a lost
    // answer, or after a reload, gets the job that was made.
    const body = { object_key: up.object_key, type };
    if (params !== undefined) body.params = params;
    const created = await api('POST', '/api/jobs', body,
      { 'Idempotency-Key': `web-${up.upload_id}-${type}-${tag(text)}` });
    done();
    const el = addJobCard(created.job_id, type, up.filename);
    setStatus(jobs.get(created.job_id), created.status);
    el.scrollIntoView({ block: 'nearest' });
    refreshJob(created.job_id);
  } catch (err) {
    showError(err.message);
  } finally {
    button.disabled = false;
  }
});

const drop = $('#drop');
$('#file').addEventListener('change', () => {
  const f = $('#file').files[0];
  $('#file-label').textContent = f ? `${f.name} (${fmtBytes(f.size)})` : 'Choose a file or drop it here';
});
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files.length) {
    $('#file').files = e.dataTransfer.files;
    $('#file').dispatchEvent(new Event('change'));
  }
});

loadJobTypes();
socket.connect();
