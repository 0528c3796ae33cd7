// Drive the speech app (examples/web) in Debian's headless chromium.
//
//   node speak_page.mjs --url URL --screenshot FILE [--text TEXT] [--min-chunks N] [--timeout MS]
//
// Loads the page served by owt, types the text, clicks Speak, waits until at least
// N sentences have arrived and decoded (the page records each one's duration) and the
// stream is done, saves a screenshot, and prints one JSON object: what the page recorded.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    screenshot: { type: 'string' },
    text: { type: 'string', default: 'Ey up, this is owt. It speaks each sentence as it arrives. Proper clever, innit?' },
    'min-chunks': { type: 'string', default: '2' },
    timeout: { type: 'string', default: '60000' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
if (!opts.url || !opts.screenshot) {
  console.error('usage: node speak_page.mjs --url URL --screenshot FILE [--text TEXT]');
  process.exit(2);
}
const minChunks = Number(opts['min-chunks']);
const timeout = Number(opts.timeout);

const profile = mkdtempSync(join(tmpdir(), 'owt-chromium-'));
const consoleLines = [];
let context;
try {
  // A new, empty profile directory (chromium's --user-data-dir) for every run.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: opts.chromium,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 900, height: 1000 },
    timeout,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));

  const response = await page.goto(opts.url, { waitUntil: 'load', timeout });
  const title = await page.title();
  await page.fill('#text', opts.text);
  await page.click('#speak');
  await page.waitForFunction(
    (n) => window.owtState === 'error' || (window.owtState === 'done' && window.owtChunks.length >= n),
    minChunks, { timeout, polling: 100 });
  const result = await page.evaluate(() => ({
    state: window.owtState,
    status: document.getElementById('status').textContent,
    chunks: window.owtChunks,
    listed: Array.from(document.querySelectorAll('#chunks li')).map((li) => ({
      text: li.textContent, duration: li.dataset.duration || null, error: li.dataset.error || null,
    })),
    player: !document.getElementById('cumulative').hidden,
    owtUrl: document.getElementById('owt-url').value,
  }));
  await page.screenshot({ path: opts.screenshot, fullPage: true });
  console.log(JSON.stringify({
    httpStatus: response ? response.status() : null,
    contentType: response ? response.headers()['content-type'] : null,
    title, ...result, console: consoleLines,
  }));
} catch (err) {
  console.error(`speak_page: ${err.stack || err}`);
  console.error(consoleLines.join('\n'));
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
