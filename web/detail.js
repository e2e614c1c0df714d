// One job in full: state, progress with stage and ETA, the timeline of its
// transitions, its result, its row errors a page at a time with the CSV
// report, its outputs as presigned links, and the cancel and replay
// buttons (enabled only where the API allows them).
import { $, api, CANCELLABLE, downloadErrors, el, eventText, fmtBytes, fmtTime, progressText, TERMINAL } from './lib.js';

// Output links presigned and shown at a time; characters of a result
// field shown.
const OUTPUTS_PAGE = 20;
const RESULT_CUT = 600;

const ERRORS_PAGE = 20;

export class JobDetail {
  constructor(root, { onChanged }) {
    this.root = root;
    this.id = null;
    this.job = null;
    this.seen = new Set();
    this.errCursors = [null];
    this.errNext = null;
    this.onChanged = onChanged;
    $('#detail-cancel').addEventListener('click', () => this.act('cancel'));
    $('#detail-replay').addEventListener('click', () => this.act('replay'));
    $('#errors-prev').addEventListener('click', () => {
      if (this.errCursors.length > 1) { this.errCursors.pop(); this.loadErrors(); }
    });
    $('#errors-next').addEventListener('click', () => {
      if (this.errNext) { this.errCursors.push(this.errNext); this.loadErrors(); }
    });
    $('#errors-csv').addEventListener('click', () => downloadErrors(this.id).catch((e) => this.error(e.message)));
  }

  error(text) {
    const box = $('#detail-error');
    box.textContent = text;
    box.hidden = !text;
  }

  async open(id) {
    if (id !== this.id) {
      this.id = id;
      this.job = null;
      this.seen.clear();
      $('#detail-timeline').replaceChildren();
      $('#detail-output').replaceChildren();
      this.errCursors = [null];
      $('#detail-errors').hidden = true;
    }
    this.error('');
    $('#detail-title').textContent = `Job ${id}`;
    await this.refresh();
    $('#detail-title').focus();
  }

  async refresh() {
    const id = this.id;
    let j;
    try {
      j = await api('GET', `/api/jobs/${id}`);
    } catch (e) {
      this.error(e.message);
      return;
    }
    if (id !== this.id) return;
    this.job = j;
    for (const ev of j.events) this.addEvent(ev);
    this.setStatus(j.status);
    $('#detail-meta').replaceChildren(...[
      ['Type', j.type], ['Attempt', `${j.attempt} of ${j.max_attempts}`], ['Created', fmtTime(j.created_at)],
      ['Started', fmtTime(j.started_at)], ['Finished', fmtTime(j.finished_at)], ['Object', j.object_key],
    ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v || '–')]));
    this.progress(j.status === 'PROCESSING'
      ? { progress: j.progress, stage: j.stage, rows: j.rows_done, estimated_completion: j.estimated_completion } : null);
    const dl = $('#detail-result');
    dl.replaceChildren();
    if (j.result) {
      for (const [k, v] of Object.entries(j.result)) {
        // A long list (outputs, pages: one a page) is cut; the links below
        // and the API have it whole.
        const text = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
        dl.append(el('dt', {}, k), el('dd', { dataset: { field: k } },
          text.length > RESULT_CUT ? `${text.slice(0, RESULT_CUT)}… (${text.length} characters)` : text));
      }
    }
    $('#detail-result-box').hidden = !j.result;
    $('#detail-job-error').textContent = j.error || '';
    $('#detail-job-error').hidden = !j.error;
    const hasErrors = j.result && (j.result.rows_failed > 0 || (j.result.row_errors && j.result.row_errors.stored > 0));
    if (hasErrors) this.loadErrors(); else $('#detail-errors').hidden = true;
    if (j.status === 'COMPLETED') this.loadOutput();
  }

  setStatus(status) {
    const b = $('#detail-status');
    b.textContent = status;
    b.className = `badge ${status}`;
    $('#detail-cancel').disabled = !CANCELLABLE.has(status);
    $('#detail-replay').disabled = status !== 'DEAD';
    if (TERMINAL.has(status)) this.progress(null);
  }

  progress(p) {
    const box = $('#detail-progress');
    box.hidden = !p;
    if (!p) return;
    $('progress', box).value = p.progress || 0;
    $('#detail-stage').textContent = progressText(p);
  }

  addEvent(ev) {
    if (this.seen.has(ev.event_id)) return;
    this.seen.add(ev.event_id);
    const ol = $('#detail-timeline');
    const li = el('li', { 'data-testid': 'detail-event', dataset: { eventId: ev.event_id } }, eventText(ev));
    const after = [...ol.children].find((x) => Number(x.dataset.eventId) > ev.event_id);
    ol.insertBefore(li, after || null);
  }

  // Pushed events of the shown job.
  onEvent(msg) {
    if (msg.job_id !== this.id) return;
    this.addEvent(msg);
    if (Math.max(...this.seen) === msg.event_id) this.setStatus(msg.to);
    if (TERMINAL.has(msg.to) || msg.to === 'QUEUED') this.refresh();
  }

  onProgress(msg) {
    if (msg.job_id === this.id && this.job && !TERMINAL.has($('#detail-status').textContent)) this.progress(msg);
  }

  async act(what) {
    const button = what === 'cancel' ? $('#detail-cancel') : $('#detail-replay');
    button.disabled = true;
    this.error('');
    try {
      const r = await api('POST', `/api/jobs/${this.id}/${what}`);
      this.setStatus(r.status);
      this.onChanged();
    } catch (e) {
      this.error(`${what} refused: ${e.message}`);
    }
    await this.refresh();
  }

  async loadErrors() {
    const q = new URLSearchParams({ limit: String(ERRORS_PAGE) });
    const after = this.errCursors.at(-1);
    if (after) q.set('after', after);
    try {
      const page = await api('GET', `/api/jobs/${this.id}/errors?${q}`);
      this.errNext = page.next;
      if (page.total != null) $('#errors-total').textContent = `${page.total} stored`;
      $('#errors-body').replaceChildren(...page.errors.map((e) => el('tr', { 'data-testid': 'row-error' },
        el('td', { 'data-label': 'Row' }, String(e.row)), el('td', { 'data-label': 'Column' }, e.column || '–'),
        el('td', { 'data-label': 'Code' }, e.code), el('td', { 'data-label': 'Message' }, e.message),
        el('td', { 'data-label': 'Value' }, e.value ?? ''))));
      $('#errors-prev').disabled = this.errCursors.length < 2;
      $('#errors-next').disabled = !this.errNext;
      $('#errors-page').textContent = `page ${this.errCursors.length}`;
      $('#detail-errors').hidden = false;
    } catch (e) {
      this.error(`row errors: ${e.message}`);
    }
  }

  // A link for each output the result lists (pdf.text with per_page: one a
  // page), OUTPUTS_PAGE at a time, or for its one output_key; each URL
  // presigned by the API as its page is shown.
  async loadOutput(pageNo = 0) {
    const box = $('#detail-output');
    const id = this.id;
    const outs = Array.isArray(this.job?.result?.outputs) ? this.job.result.outputs : [];
    const shown = outs.slice(pageNo * OUTPUTS_PAGE, (pageNo + 1) * OUTPUTS_PAGE);
    const names = outs.length ? shown.map((o) => o.name) : [null];
    const got = await Promise.allSettled(names.map((name) => api('GET',
      `/api/jobs/${id}/output${name ? `?name=${encodeURIComponent(name)}` : ''}`)));
    if (id !== this.id) return;
    if (!outs.length && got[0].status === 'rejected') {
      const e = got[0].reason;
      box.replaceChildren(el('span', { className: 'muted' },
        e.status === 409 ? 'This job type writes no output file.' : `output: ${e.message}`));
      return;
    }
    const list = el('ul', { className: 'outputs' }, ...got.map((g, i) => {
      if (g.status === 'rejected') return el('li', { className: 'muted' }, `${names[i]}: ${g.reason.message}`);
      const o = g.value;
      const bytes = shown[i]?.bytes;
      return el('li', {},
        el('a', { href: o.url, 'data-testid': 'output-link', dataset: { name: o.name }, rel: 'noopener' },
          `Download ${o.name}`),
        el('span', { className: 'muted' },
          `${bytes != null ? ` · ${fmtBytes(bytes)}` : ''} (link valid until ${fmtTime(o.expires_at)})`));
    }));
    const pages = Math.ceil(outs.length / OUTPUTS_PAGE);
    if (pages <= 1) {
      box.replaceChildren(list);
      return;
    }
    box.replaceChildren(el('p', { className: 'muted' }, `${outs.length} outputs`), list,
      el('div', { className: 'pager' },
        el('button', { type: 'button', id: 'outputs-prev', disabled: pageNo === 0,
          onclick: () => this.loadOutput(pageNo - 1) }, 'Previous'),
        el('span', { className: 'muted', id: 'outputs-page' }, ` page ${pageNo + 1} of ${pages} `),
        el('button', { type: 'button', id: 'outputs-next', disabled: pageNo + 1 >= pages,
          onclick: () => this.loadOutput(pageNo + 1) }, 'Next')));
  }
}
