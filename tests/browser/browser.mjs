// What the browser tests share: Debian's Chromium, headless, driven by
// playwright-core (which never downloads a browser of its own), a watch
// on the tus PATCHes a page sends, and the accessibility audit of a view.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.RAP_CHROMIUM || '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// PATCH requests the page sends, with their Upload-Offset; `hold(n)` keeps
// the n-th PATCH from ever being answered, `cut(n)` fails it as a dropped
// connection would.
export async function watchPatches(page, { hold = 0, cut = 0 } = {}) {
  const offsets = [];
  let waiter = null;
  offsets.reached = (n, ms = 30000) => new Promise((resolve, reject) => {
    if (offsets.length >= n) { resolve(); return; }
    const timer = setTimeout(() => reject(new Error(`only ${offsets.length} PATCHes in ${ms} ms`)), ms);
    waiter = { n, done: () => { clearTimeout(timer); resolve(); } };
  });
  await page.route('**/api/files/*', async (route) => {
    const req = route.request();
    if (req.method() !== 'PATCH') return route.continue();
    offsets.push(Number(req.headers()['upload-offset']));
    if (waiter && offsets.length >= waiter.n) waiter.done();
    if (offsets.length === cut) return route.abort('connectionreset');
    if (offsets.length === hold) return new Promise(() => {});
    return route.continue();
  });
  return offsets;
}

// Every control has a name; every visible text has 4.5:1 against what is
// behind it (WCAG AA), disabled controls aside.  Run in the page:
// page.evaluate(audit).
export function audit() {
  const lum = (rgb) => {
    const c = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const parse = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!e.checkVisibility() || e.closest(':disabled') || e.closest('.sr-only')) continue;
    const text = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join('');
    if (!text) continue;
    const fg = lum(parse(getComputedStyle(e).color).slice(0, 3));
    const bg = lum(background(e));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) low.push(`${e.tagName}.${e.className} "${text.slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  const unnamed = [...document.querySelectorAll('input, select, textarea, button, progress')]
    .filter((c) => !(c.labels?.length || c.getAttribute('aria-label') || (c.tagName === 'BUTTON' && c.textContent.trim())))
    .map((c) => c.outerHTML.slice(0, 80));
  const landmarks = ['header', 'nav', 'main'].filter((t) => !document.querySelector(t));
  return { low, unnamed, landmarks };
}
