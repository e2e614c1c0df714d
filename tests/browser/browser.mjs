// What the browser tests share: Debian's Chromium, headless, driven by
// playwright-core (which never downloads a browser of its own), and a watch
// on the tus PATCHes a page sends.
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

