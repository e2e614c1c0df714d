// The jobs this tab started, one card each, followed live: transitions
// (pushed, replayed or fetched; duplicates dropped), progress, result.
import { $, api, downloadErrors, eventText, progressText, TERMINAL } from './lib.js';

const cards = new Map(); // job_id -> { el, seen: Set(event_id), lastEvent, status }
let onError = () => {};

export function initCards(showError) { onError = showError; }
export const cardIds = () => [...cards.keys()];

export function addJobCard(jobId, type, filename, status) {
  const el = $('#job-template').content.firstElementChild.cloneNode(true);
  el.dataset.jobId = jobId;
  el.querySelector('.job-id').textContent = jobId;
  el.querySelector('.job-meta').textContent = `${type} · ${filename}`;
  $('#jobs').prepend(el);
  $('#no-jobs').hidden = true;
  const card = { el, seen: new Set(), lastEvent: 0, status: null };
  cards.set(jobId, card);
  el.querySelector('.row-errors').addEventListener('click', () => downloadErrors(jobId).catch((e) => onError(e.message)));
  el.querySelector('.open-detail').addEventListener('click', () => {
    location.hash = `#/jobs/${jobId}`;
  });
  if (status) setStatus(card, status);
  refreshCard(jobId);
  return el;
}

function setStatus(card, status) {
  const badge = card.el.querySelector('[data-testid=job-status]');
  badge.textContent = status;
  badge.className = `badge ${status}`;
  card.status = status;
  if (TERMINAL.has(status)) card.el.querySelector('.job-progress').hidden = true;
}

export function cardProgress(jobId, p) {
  const card = cards.get(jobId);
  if (!card || TERMINAL.has(card.status)) return;
  const box = card.el.querySelector('.job-progress');
  box.querySelector('progress').value = p.progress || 0;
  box.querySelector('[data-testid=job-stage]').textContent = progressText(p);
  box.hidden = false;
}

export function cardEvent(jobId, ev) {
  const card = cards.get(jobId);
  if (!card || card.seen.has(ev.event_id)) return;
  card.seen.add(ev.event_id);
  card.lastEvent = Math.max(card.lastEvent, ev.event_id);
  const items = [...card.el.querySelectorAll('.timeline li')];
  const li = document.createElement('li');
  li.setAttribute('data-testid', 'timeline-item');
  li.dataset.eventId = ev.event_id;
  li.textContent = eventText(ev);
  const after = items.find((x) => Number(x.dataset.eventId) > ev.event_id);
  card.el.querySelector('.timeline').insertBefore(li, after || null);
  if (ev.event_id === card.lastEvent) setStatus(card, ev.to);
  if (TERMINAL.has(ev.to)) refreshCard(jobId);
}

// Reads the job (result, error) and fills any gap in the timeline.
export async function refreshCard(jobId) {
  try {
    const j = await api('GET', `/api/jobs/${jobId}`);
    for (const e of j.events) cardEvent(jobId, e);
    const card = cards.get(jobId);
    setStatus(card, j.status);
    if (j.status === 'PROCESSING' && j.stage) {
      cardProgress(jobId, { progress: j.progress, stage: j.stage, rows: j.rows_done,
        estimated_completion: j.estimated_completion });
    }
    const dl = card.el.querySelector('.result');
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
      card.el.querySelector('.row-errors').hidden = !(j.result.rows_failed > 0
        || (j.result.row_errors && j.result.row_errors.stored > 0));
    }
    const err = card.el.querySelector('.job-error');
    err.textContent = j.error || '';
    err.hidden = !j.error;
  } catch (e) {
    onError(e.message);
  }
}
