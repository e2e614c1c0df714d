// The caller's jobs as tables kept live: the job table (filters by state
// and type, keyset pages) and the DEAD view (the dead-letter reason,
// replay one or all), and the Admin view's DEAD jobs of every owner.  GET /api/jobs gives a page and the `next` cursor;
// "previous" goes back through the cursors this tab walked.  Pushed
// transitions update a shown row in place; one that may belong on the
// first page (a new job, a job entering the filtered state) reloads it,
// at most every half second, and the first page is also read again every
// POLL_MS as a safety net.
import { $, api, debounce, el, fmtTime, STATES } from './lib.js';

const POLL_MS = 15000;
export const pageSize = () => Number(localStorage.getItem('rap.pageSize')) || 20;

function badge(status, testid) {
  return el('span', { className: `badge ${status}`, 'data-testid': testid }, status);
}

// A cell with the column's name, which the phone layout shows beside it.
const td = (label, ...children) => el('td', { 'data-label': label }, ...children);

export class JobList {
  // root: the section; opts.status fixes the state (the DEAD view);
  // opts.scope() gives more query parameters (the Admin view's owner=NAME
  // or all=true); opts.row(job) builds a row's cells; opts.onError(text).
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.cursors = [null]; // the `after` of each page walked
    this.next = null;
    this.rows = new Map(); // job_id -> tr
    this.reloadSoon = debounce(() => this.load(), 500);
    $('.page-prev', root).addEventListener('click', () => this.prev());
    $('.page-next', root).addEventListener('click', () => this.more());
    this.timer = null;
    this.seq = 0; // the newest load; an older answer that comes later is dropped
  }

  filters() {
    const q = new URLSearchParams({ limit: String(pageSize()) });
    const status = this.opts.status || $('#filter-state')?.value;
    const type = this.opts.status ? '' : $('#filter-type')?.value;
    if (status) q.set('status', status);
    if (type) q.set('type', type);
    for (const [k, v] of Object.entries(this.opts.scope?.() || {})) q.set(k, v);
    return q;
  }

  // Loads the current page again (the first after a filter change: reset()).
  async load() {
    const q = this.filters();
    const after = this.cursors.at(-1);
    if (after) q.set('after', after);
    const seq = ++this.seq;
    try {
      const page = await api('GET', `/api/jobs?${q}`);
      if (seq !== this.seq) return;
      this.next = page.next;
      this.render(page.jobs);
      this.opts.onError('');
    } catch (e) {
      if (seq !== this.seq) return;
      this.opts.onError(`jobs could not be listed: ${e.message}`);
    }
  }

  reset() {
    this.cursors = [null];
    return this.load();
  }

  more() {
    if (!this.next) return;
    this.cursors.push(this.next);
    this.load();
  }

  prev() {
    if (this.cursors.length < 2) return;
    this.cursors.pop();
    this.load();
  }

  render(jobs) {
    const body = $('tbody', this.root);
    this.rows.clear();
    body.replaceChildren(...jobs.map((j) => {
      const tr = el('tr', { 'data-testid': 'job-row', dataset: { jobId: j.job_id } }, ...this.opts.row(j, badge));
      this.rows.set(j.job_id, tr);
      return tr;
    }));
    $('.empty', this.root).hidden = jobs.length > 0;
    $('.page-prev', this.root).disabled = this.cursors.length < 2;
    $('.page-next', this.root).disabled = !this.next;
    $('.page-no', this.root).textContent = `page ${this.cursors.length}`;
  }

  // A pushed job.status event (owner-wide).
  onEvent(msg) {
    const tr = this.rows.get(msg.job_id);
    const wanted = this.opts.status || $('#filter-state')?.value;
    const type = this.opts.status ? '' : $('#filter-type')?.value;
    if (tr) {
      const b = $('[data-testid=row-status]', tr);
      if (b) { b.textContent = msg.to; b.className = `badge ${msg.to}`; }
      const u = $('[data-col=updated]', tr);
      if (u) u.textContent = fmtTime(msg.at);
      if (wanted && msg.to !== wanted && this.cursors.length === 1) this.reloadSoon();
      return;
    }
    if (this.cursors.length !== 1) return;
    if (wanted && msg.to !== wanted) return;
    if (type && msg.job_type && msg.job_type !== type) return;
    this.reloadSoon();
  }

  // Polls the first page while the view is shown.
  show(on) {
    clearInterval(this.timer);
    this.timer = null;
    if (!on) return;
    this.load();
    this.timer = setInterval(() => {
      if (this.cursors.length === 1 && !document.hidden) this.load();
    }, POLL_MS);
  }
}

// The job table's row.
export function jobRow(j, badge) {
  return [
    td('Job', el('a', { href: `#/jobs/${j.job_id}`, className: 'mono' }, j.job_id.slice(0, 8)),
      el('span', { className: 'sr-only' }, ` ${j.job_id}`)),
    td('Type', j.type),
    td('State', badge(j.status, 'row-status')),
    td('Attempt', `${j.attempt}/${j.max_attempts}`),
    td('Created', fmtTime(j.created_at)),
    el('td', { 'data-label': 'Updated', dataset: { col: 'updated' } }, fmtTime(j.updated_at)),
  ];
}

// The DEAD view's row: its replay button calls onReplay(job_id).
export function deadRow(onReplay) {
  return (j, badge) => [
    td('Job', el('a', { href: `#/jobs/${j.job_id}`, className: 'mono' }, j.job_id.slice(0, 8)),
      el('span', { className: 'sr-only' }, ` ${j.job_id}`)),
    td('Type', j.type),
    td('State', badge(j.status, 'row-status')),
    td('Reason', el('span', { 'data-testid': 'dead-reason' }, j.error || '(none recorded)')),
    td('Dead since', fmtTime(j.finished_at || j.updated_at)),
    td('Action', el('button', { type: 'button', className: 'small', 'data-testid': 'dead-replay',
      'aria-label': `Replay job ${j.job_id}`, onclick: () => onReplay(j.job_id) }, 'Replay')),
  ];
}

// The Admin view's DEAD row: any owner's job (its detail is its owner's,
// so the id is not a link), its owner, and a replay button.
export function adminDeadRow(onReplay) {
  return (j) => [
    td('Job', el('code', { className: 'mono', title: j.job_id }, j.job_id.slice(0, 8)),
      el('span', { className: 'sr-only' }, ` ${j.job_id}`)),
    td('Owner', el('span', { 'data-testid': 'dead-owner' }, j.owner)),
    td('Type', j.type),
    td('Reason', el('span', { 'data-testid': 'dead-reason' }, j.error || '(none recorded)')),
    td('Dead since', fmtTime(j.finished_at || j.updated_at)),
    td('Action', el('button', { type: 'button', className: 'small', 'data-testid': 'admin-replay',
      'aria-label': `Replay job ${j.job_id} of ${j.owner}`, onclick: () => onReplay(j.job_id) }, 'Replay')),
  ];
}

export function fillStateFilter(select) {
  for (const s of STATES) select.append(el('option', { value: s }, s));
}
