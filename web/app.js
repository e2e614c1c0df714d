// The platform's web UI: upload with progress, create the job, follow it live
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
});
const apiKey = () => keyInput.value.trim();

function showError(msg) {
  const box = $('#error');
  box.textContent = msg;
  box.hidden = !msg;
}

function errorText(status, body) {
  if (body && body.error && body.error.message) {
    return `${status} ${body.error.code}: ${body.error.message}`;
  }
  return `request failed with HTTP ${status}`;
}

function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

// Uploads with XMLHttpRequest, whose upload.onprogress fetch() lacks.
function uploadFile(file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    const bar = $('#upload-progress');
    const stats = $('#upload-stats');
    const started = performance.now();
    form.append('file', file, file.name);
    xhr.open('POST', '/api/uploads');
    xhr.setRequestHeader('Authorization', `Bearer ${apiKey()}`);
    xhr.responseType = 'json';
    bar.hidden = false;
    bar.value = 0;
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const secs = (performance.now() - started) / 1000;
      const rate = e.loaded / Math.max(secs, 0.001);
      const eta = rate > 0 ? (e.total - e.loaded) / rate : 0;
      bar.value = Math.round((e.loaded / e.total) * 100);
      stats.textContent = `${bar.value}% · ${fmtBytes(e.loaded)} of ${fmtBytes(e.total)} · `
        + `${fmtBytes(rate)}/s · ${Math.ceil(eta)} s left`;
    };
    xhr.onload = () => {
      if (xhr.status === 201) {
        bar.value = 100;
        stats.textContent = `uploaded ${fmtBytes(xhr.response.size)}`;
        resolve(xhr.response);
      } else {
        reject(new Error(errorText(xhr.status, xhr.response)));
      }
    };
    xhr.onerror = () => reject(new Error('the upload was interrupted (network error)'));
    xhr.send(form);
  });
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${apiKey()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(errorText(res.status, json));
  return json;
}

function addJobCard(jobId, type, filename) {
  const el = $('#job-template').content.firstElementChild.cloneNode(true);
  el.dataset.jobId = jobId;
  el.querySelector('.job-id').textContent = jobId;
  el.querySelector('.job-meta').textContent = `${type} · ${filename}`;
  $('#jobs').prepend(el);
  $('#no-jobs').hidden = true;
  jobs.set(jobId, { el, seen: new Set(), lastEvent: 0 });
  return el;
}

function setStatus(job, status) {
  const badge = job.el.querySelector('[data-testid=job-status]');
  badge.textContent = status;
  badge.className = `badge ${status}`;
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
    const dl = job.el.querySelector('.result');
    if (j.status === 'COMPLETED' && j.result) {
      dl.replaceChildren();
      for (const [k, v] of Object.entries(j.result)) {
        const dt = document.createElement('dt');
        const dd = document.createElement('dd');
        dt.textContent = k;
        dd.textContent = String(v);
        dd.dataset.field = k;
        dl.append(dt, dd);
      }
      dl.hidden = false;
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
    this.ws.onclose = () => {
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
    const up = await uploadFile(file);
    const type = $('#job-type').value;
    const created = await api('POST', '/api/jobs', { object_key: up.object_key, type });
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

socket.connect();
