// What the page's modules share: the API key, calls to the API with it,
// error texts, and small formatters.
export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED']);
export const STATES = ['CREATED', 'QUEUED', 'PROCESSING', 'RETRYING', 'COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'];
// What the API allows (docs/jobs.md): cancel before an end, replay a DEAD job.
export const CANCELLABLE = new Set(['CREATED', 'QUEUED', 'PROCESSING', 'RETRYING']);
export const $ = (sel, root = document) => root.querySelector(sel);

export const apiKey = () => $('#api-key').value.trim();
export const authHeader = () => ({ Authorization: `Bearer ${apiKey()}` });

// An error body as text: the platform's envelope today, RFC 9457
// problem+json (detail, code) as well.
// An error answer is RFC 9457 problem details: {type, title, status,
// detail, code, request_id} (docs/errors.md).
export function errorText(status, body) {
  const message = body && (body.detail || body.title);
  if (message) return `${status} ${body.code || 'error'}: ${message}`;
  return `request failed with HTTP ${status}`;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status;
  }
}

// One call to the API through the gateway; answers the JSON body, throws an
// ApiError with the server's words on a refusal.
export async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: { ...authHeader(), ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');
export const fmtSecs = (s) => (s == null ? '–' : s < 10 ? `${Number(s).toFixed(2)} s` : `${Math.round(s)} s`);
export const fmtRate = (r) => (r == null ? '–' : `${(r * 100).toFixed(1)}%`);

// A stage line: "parse · 40% · 1,200 rows · done about 12:03:04".
export function progressText(p) {
  const parts = [];
  if (p.stage) parts.push(p.stage);
  parts.push(`${Math.floor((p.progress || 0) * 100)}%`);
  if (p.rows != null) parts.push(`${Number(p.rows).toLocaleString()} rows`);
  if (p.estimated_completion) parts.push(`done about ${new Date(p.estimated_completion).toLocaleTimeString()}`);
  return parts.join(' · ');
}

// A transition as a line of a timeline.
export function eventText(ev) {
  const at = new Date(ev.at).toLocaleTimeString();
  return `${ev.from || '∅'} → ${ev.to} · ${at} · attempt ${ev.attempt}` + (ev.detail ? ` · ${ev.detail}` : '');
}

export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && !k.includes('-')) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c != null));
  return e;
}

// Saves a job's whole row-error report (it needs the API key: fetched,
// then handed to the browser as a file).
export async function downloadErrors(jobId) {
  const res = await fetch(`/api/jobs/${jobId}/errors.csv`, { headers: authHeader() });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  const a = el('a', { href: URL.createObjectURL(await res.blob()), download: `${jobId}-errors.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// A few events at once become one call, at most every `ms`.
export function debounce(fn, ms) {
  let t = null;
  return () => {
    if (t) return;
    t = setTimeout(() => { t = null; fn(); }, ms);
  };
}
