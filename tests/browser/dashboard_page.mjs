// Drive the dashboard (/_owt/) in Debian's headless chromium.
//
//   node dashboard_page.mjs --url URL --screenshot FILE [--user U --password P]
//                           [--kwargs JSON] [--path P] [--min-workers N] [--timeout MS]
//
// Loads the page (Basic auth from --user/--password), waits until the status rows are
// there, runs the playground's adaptor (the page's own streaming example) with the given
// kwargs, records whether the run showed up among the in-flight requests and when each
// chunk arrived, waits for the chart to draw the run, saves a screenshot, and prints one
// JSON object: what the page recorded.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    screenshot: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    kwargs: { type: 'string', default: '{"n": 3}' },
    path: { type: 'string', default: '/playground' },
    'min-workers': { type: 'string', default: '1' },
    timeout: { type: 'string', default: '60000' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
if (!opts.url || !opts.screenshot) {
  console.error('usage: node dashboard_page.mjs --url URL --screenshot FILE [--user U --password P]');
  process.exit(2);
}
const timeout = Number(opts.timeout);
const minWorkers = Number(opts['min-workers']);

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
    viewport: { width: 1100, height: 1400 },
    httpCredentials: opts.user ? { username: opts.user, password: opts.password || '' } : undefined,
    timeout,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));

  const response = await page.goto(opts.url, { waitUntil: 'load', timeout });
  const title = await page.title();
  // Status rows: the page has polled and lists the workers.
  await page.waitForFunction((n) => window.owtDash.polls > 0 && window.owtDash.workers >= n,
    minWorkers, { timeout, polling: 50 });
  const before = await page.evaluate(() => ({
    rows: document.querySelectorAll('#workers tr[data-pid]').length,
    pids: Array.from(document.querySelectorAll('#workers tr[data-pid]')).map((tr) => Number(tr.dataset.pid)),
    server: document.getElementById('server').textContent,
  }));

  // The playground: run the page's streaming example; while it runs, the status rows
  // should show it in flight.
  await page.fill('#kwargs', opts.kwargs);
  await page.fill('#path', opts.path);
  await page.click('#run');
  let sawInflight = false;
  try {
    await page.waitForFunction((p) => window.owtDash.paths.includes(p), opts.path, { timeout: timeout / 4, polling: 50 });
    sawInflight = true;
  } catch (_) { /* reported below */ }
  await page.waitForFunction(() => window.owtRun.state === 'done' || window.owtRun.state === 'error',
    null, { timeout, polling: 50 });
  // The chart: a poll after the run has it in the last steps.
  const polls = await page.evaluate(() => window.owtDash.polls);
  await page.waitForFunction((n) => window.owtDash.polls > n + 1 && window.owtDash.chartSteps > 0,
    polls, { timeout, polling: 50 });
  const result = await page.evaluate(() => ({
    run: window.owtRun,
    dash: window.owtDash,
    output: document.getElementById('output').textContent,
    runStatus: document.getElementById('run-status').textContent,
    chunkItems: document.querySelectorAll('#chunks li').length,
    bars: document.querySelectorAll('#chart rect.bar').length,
    lines: document.querySelectorAll('#chart polyline').length,
    rate: document.getElementById('rate').textContent,
    mean: document.getElementById('mean').textContent,
    cache: document.getElementById('cache').textContent,
    totals: document.getElementById('totals').textContent,
  }));
  await page.screenshot({ path: opts.screenshot, fullPage: true });
  console.log(JSON.stringify({
    httpStatus: response ? response.status() : null,
    contentType: response ? response.headers()['content-type'] : null,
    title, before, sawInflight, ...result, console: consoleLines,
  }));
} catch (err) {
  console.error(`dashboard_page: ${err.stack || err}`);
  console.error(consoleLines.join('\n'));
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
