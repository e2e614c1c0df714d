// The caller's numbers over the last 24 hours (GET /api/jobs/stats):
// jobs, success and failure rate, average and p95 processing time per type,
// uploads and bytes.  Read again after jobs end (at most every 2 s) and
// every 30 s.  The Admin view shows every owner's the same way
// (loadStats(its card, 'all=true')).
import { $, api, debounce, el, fmtBytes, fmtRate, fmtSecs } from './lib.js';

let timer = null;

// root: a card with [data-stat=NAME] cells, a tbody.stats-types and a
// .stats-note; query: the scope (an admin's 'all=true'), empty for the
// caller's own.
export async function loadStats(root = $('#stats'), query = '') {
  const cell = (name) => $(`[data-stat=${name}]`, root);
  try {
    const s = await api('GET', `/api/jobs/stats${query ? `?${query}` : ''}`);
    const finished = s.by_type.reduce((n, t) => n + t.finished, 0);
    const avg = finished
      ? s.by_type.reduce((sum, t) => sum + (t.avg_seconds || 0) * t.finished, 0) / finished : null;
    cell('jobs').textContent = String(s.jobs);
    cell('success').textContent = fmtRate(s.success_rate);
    cell('failure').textContent = fmtRate(s.failure_rate);
    cell('avg').textContent = fmtSecs(avg);
    cell('uploads').textContent = `${s.uploads.count} · ${fmtBytes(s.uploads.bytes)}`;
    $('.stats-types', root).replaceChildren(...s.by_type.map((t) => el('tr', { dataset: { type: t.type } },
      el('th', { scope: 'row', 'data-label': 'Type' }, t.type), el('td', { 'data-label': 'Jobs' }, String(t.count)),
      el('td', { 'data-label': 'Average' }, fmtSecs(t.avg_seconds)),
      el('td', { 'data-label': 'p95' }, fmtSecs(t.p95_seconds)))));
    $('.stats-note', root).textContent = '';
  } catch (e) {
    $('.stats-note', root).textContent = `numbers unavailable: ${e.message}`;
  }
}

export const statsSoon = debounce(() => loadStats(), 2000);

export function startStats() {
  clearInterval(timer);
  loadStats();
  timer = setInterval(() => { if (!document.hidden) loadStats(); }, 30000);
}
