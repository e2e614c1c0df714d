// The platform's web UI, no framework and no build step: ES modules served
// as they are.  This file wires them: the API key, the one owner-wide
// WebSocket (with replay on reconnect) whose events feed every view, the
// views (#/jobs, #/jobs/ID, #/dead, and #/admin for an admin key: GET
// /api/me says the key's role) and the upload form.
//
//   lib.js     API calls, error texts, formatters
//   upload.js  several files at once over tus (tus-js-client), a job each
//   cards.js   the jobs this tab started, followed live
//   jobs.js    the job table (filters, keyset pages), the DEAD view and
//              the Admin view's DEAD jobs of every owner
//   detail.js  one job: timeline, progress, result, row errors, output, actions
//   stats.js   the caller's numbers over 24 h (every owner's in the Admin view)
import { $, api, apiKey, debounce, el } from './lib.js';
import { uploadAll } from './upload.js';
import { addJobCard, cardEvent, cardIds, cardProgress, initCards, refreshCard } from './cards.js';
import { adminDeadRow, deadRow, fillStateFilter, JobList, jobRow } from './jobs.js';
import { JobDetail } from './detail.js';
import { loadStats, startStats, statsSoon } from './stats.js';

const keyInput = $('#api-key');
keyInput.value = localStorage.getItem('rap.apiKey') || 'dev-key';

function showError(msg) {
  const box = $('#error');
  box.textContent = msg;
  box.hidden = !msg;
}
initCards(showError);

const boxError = (sel) => (msg) => { $(sel).textContent = msg; $(sel).hidden = !msg; };
const table = new JobList($('#table-section'), { row: jobRow, onError: boxError('#jobs-error') });
const dead = new JobList($('#dead-view'), { status: 'DEAD', onError: boxError('#dead-error'),
  row: deadRow((id) => replay(id)) });
const detail = new JobDetail($('#detail-view'), { onChanged: () => { table.load(); dead.load(); statsSoon(); } });

async function replay(id) {
  boxError('#dead-error')('');
  try {
    const r = id ? await api('POST', `/api/jobs/${id}/replay`) : await api('POST', '/api/jobs/replay-dead');
    $('#dead-note').textContent = id ? `job ${id} replayed: ${r.status}` : `${r.replayed} job(s) replayed`;
  } catch (e) {
    boxError('#dead-error')(`replay refused: ${e.message}`);
  }
  dead.load();
  statsSoon();
}
$('#replay-all').addEventListener('click', () => replay(null));

// The Admin view (an admin key's): every owner's numbers and DEAD jobs, or
// one owner's DEAD jobs (the owner field), replayed one, by owner or all.
let isAdmin = false;
const adminOwner = () => $('#admin-owner').value.trim();
const adminDead = new JobList($('#admin-dead'), { status: 'DEAD', onError: boxError('#admin-error'),
  scope: () => (adminOwner() ? { owner: adminOwner() } : { all: 'true' }),
  row: adminDeadRow((id) => adminReplay(id)) });
let adminTimer = null;
const adminStats = () => loadStats($('#admin-stats'), 'all=true');

// target: a job id, 'owner' (the owner field's) or 'all'.
async function adminReplay(target) {
  boxError('#admin-error')('');
  const owner = adminOwner();
  try {
    if (target === 'all' || target === 'owner') {
      const q = target === 'all' ? 'all=true' : `owner=${encodeURIComponent(owner)}`;
      const r = await api('POST', `/api/jobs/replay-dead?${q}`);
      $('#admin-note').textContent = `${r.replayed} job(s) replayed${target === 'all' ? '' : ` of ${owner}`}`;
    } else {
      const r = await api('POST', `/api/jobs/${target}/replay`);
      $('#admin-note').textContent = `job ${target} replayed: ${r.status}`;
    }
  } catch (e) {
    boxError('#admin-error')(`replay refused: ${e.message}`);
  }
  adminDead.load();
  adminStats();
}
// Every owner's at once reaches other tenants' jobs: asked first.
$('#admin-replay-all').addEventListener('click', () => {
  if (window.confirm('Replay every DEAD job of every owner? Each one is queued again.')) adminReplay('all');
});
$('#admin-replay-owner').addEventListener('click', () => adminReplay('owner'));
const adminFilterSoon = debounce(() => adminDead.reset(), 400);
$('#admin-owner').addEventListener('input', () => {
  $('#admin-replay-owner').disabled = !adminOwner();
  adminFilterSoon();
});

// The key's role (GET /api/me, only with a key): the Admin tab is there for
// an admin's key; any failure hides it.
let roleSeq = 0;
async function checkRole() {
  const seq = ++roleSeq;
  let admin = false;
  if (apiKey()) {
    try {
      admin = (await api('GET', '/api/me')).role === 'admin';
    } catch { /* no role known: no Admin tab */ }
  }
  if (seq !== roleSeq) return; // a newer key's answer decides
  isAdmin = admin;
  $('#admin-tab').hidden = !admin;
  document.body.dataset.role = admin ? 'admin' : 'user';
  route();
}

// The views, by the URL's hash: #/jobs (default), #/jobs/ID, #/dead,
// #/admin (an admin key's; the jobs otherwise).
const VIEWS = ['jobs', 'detail', 'dead', 'admin'];
function route() {
  const m = location.hash.match(/^#\/jobs\/([0-9a-f-]{36})$/i);
  const view = m ? 'detail' : location.hash === '#/dead' ? 'dead'
    : location.hash === '#/admin' && isAdmin ? 'admin' : 'jobs';
  for (const v of VIEWS) $(`#${v}-view`).hidden = v !== view;
  $('#stats').hidden = view === 'admin';
  const tab = view === 'dead' || view === 'admin' ? `#/${view}` : '#/jobs';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  table.show(view === 'jobs');
  dead.show(view === 'dead');
  adminDead.show(view === 'admin');
  clearInterval(adminTimer);
  adminTimer = null;
  if (view === 'admin') {
    adminStats();
    adminTimer = setInterval(() => { if (!document.hidden) adminStats(); }, 30000);
  }
  if (m) detail.open(m[1].toLowerCase());
}
window.addEventListener('hashchange', route);

// The job types this key may use (GET /api/job-types): the upload's select
// lists them, the params field says which params the chosen one takes, and
// the table's type filter offers them.
const jobTypes = new Map();
async function loadJobTypes() {
  try {
    const { job_types: list } = await api('GET', '/api/job-types');
    const select = $('#job-type');
    const filter = $('#filter-type');
    const chosen = select.value;
    const filtered = filter.value;
    select.replaceChildren();
    filter.replaceChildren(el('option', { value: '' }, 'all types'));
    for (const t of list) {
      jobTypes.set(t.name, t);
      select.append(el('option', { value: t.name }, `${t.name}: ${t.summary}`));
      filter.append(el('option', { value: t.name }, t.name));
    }
    if (jobTypes.has(chosen)) select.value = chosen;
    if (jobTypes.has(filtered)) filter.value = filtered;
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
fillStateFilter($('#filter-state'));
$('#filter-state').addEventListener('change', () => table.reset());
$('#filter-type').addEventListener('change', () => table.reset());

// One WebSocket for every job of this key's owner; reconnects with backoff
// and resumes from the last event seen (the notifier replays the gap).
const socket = {
  ws: null,
  delay: 500,
  lastEvent: 0,
  state(text, cls) {
    const s = $('[data-testid=ws-state]');
    s.textContent = text;
    s.className = `ws ${cls}`;
  },
  connect() {
    this.ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    this.ws.onopen = () => {
      this.delay = 500;
      this.state('live', 'live');
      this.resubscribe();
      for (const id of cardIds()) refreshCard(id);
    };
    this.ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'job.status') {
        this.lastEvent = Math.max(this.lastEvent, msg.event_id);
        cardEvent(msg.job_id, msg);
        table.onEvent(msg);
        dead.onEvent(msg);
        if (isAdmin) adminDead.onEvent(msg);
        detail.onEvent(msg);
        if (['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED', 'CREATED'].includes(msg.to)) statsSoon();
      } else if (msg.type === 'job.progress') {
        cardProgress(msg.job_id, msg);
        detail.onProgress(msg);
      } else if (msg.type === 'error') {
        // Shown beside the connection state, not over an upload's error.
        this.state(`live updates refused: ${msg.message}`, 'down');
      } else if (msg.type === 'subscribed') {
        this.state('live', 'live');
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
      this.state('reconnecting…', 'down');
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  },
  resubscribe() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const msg = { type: 'subscribe', api_key: keyInput.value.trim() };
    if (this.lastEvent) msg.since = this.lastEvent;
    this.ws.send(JSON.stringify(msg));
  },
};

keyInput.addEventListener('change', () => {
  localStorage.setItem('rap.apiKey', keyInput.value);
  socket.resubscribe();
  loadJobTypes();
  table.reset();
  dead.reset();
  loadStats();
  checkRole();
});

$('#upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const files = [...$('#file').files];
  showError('');
  if (!files.length) { showError('Choose a file first.'); return; }
  const button = $('#upload');
  button.disabled = true;
  try {
    const errors = await uploadAll(files, $('#job-type').value, $('#job-params').value.trim(),
      (id, type, filename, status) => {
        addJobCard(id, type, filename, status).scrollIntoView({ block: 'nearest' });
        table.onEvent({ job_id: id, to: status, job_type: type });
      });
    showError(errors.join('\n'));
  } finally {
    button.disabled = false;
  }
});

const drop = $('#drop');
$('#file').addEventListener('change', () => {
  const fs = [...$('#file').files];
  $('#file-label').textContent = !fs.length ? 'Choose files or drop them here'
    : fs.length === 1 ? `${fs[0].name}` : `${fs.length} files chosen`;
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
startStats();
route();
checkRole();
socket.connect();
