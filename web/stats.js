// The caller's numbers over the last 24 hours (GET /api/jobs/stats):
// jobs, success and failure rate, average and p95 processing time per type,
// uploads and bytes.  Read again after jobs end (at most every 2 s) and
// every 30 s.
import { $, api, debounce, el, fmtBytes, fmtRate, fmtSecs } from './lib.js';

let timer = null;

export async function loadStats() {
  try {
    const s = await api('GET', '/api/jobs/stats');
    const finished = s.by_type.reduce((n, t) => n + t.finished, 0);
    const avg = finished
      ? s.by_type.reduce((sum, t) => sum + (t.avg_seconds || 0) * t.finished, 0) / finished : null;
    $('[data-testid=stat-jobs]').textContent = String(s.jobs);
    $('[data-testid=stat-success]').textContent = fmtRate(s.success_rate);
    $('[data-testid=stat-failure]').textContent = fmtRate(s.failure_rate);
    $('[data-testid=stat-avg]').textContent = fmtSecs(avg);
    $('[data-testid=stat-uploads]').textContent = `${s.uploads.count} · ${fmtBytes(s.uploads.bytes)}`;
    $('#stats-types').replaceChildren(...s.by_type.map((t) => el('tr', { dataset: { type: t.type } },
      el('th', { scope: 'row', 'data-label': 'Type' }, t.type), el('td', { 'data-label': 'Jobs' }, String(t.count)),
      el('td', { 'data-label': 'Average' }, fmtSecs(t.avg_seconds)),
      el('td', { 'data-label': 'p95' }, fmtSecs(t.p95_seconds)))));
    $('#stats-note').textContent = '';
  } catch (e) {
    $('#stats-note').textContent = `numbers unavailable: ${e.message}`;
  }
}

export const statsSoon = debounce(loadStats, 2000);

export function startStats() {
  clearInterval(timer);
  loadStats();
  timer = setInterval(() => { if (!document.hidden) loadStats(); }, 30000);
}
