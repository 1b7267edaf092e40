import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { openDuck } from '../../src/duck/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { DEFAULT_UI_ROOT, type RunningServer, startServer } from '../../src/serve/index.js';
import { openTable } from '../../src/table/index.js';
import { tempDir } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname;
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Collects everything that would show up as a problem in the browser's console. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** The number of drawn values in each chart of the page. */
async function chartPoints(page: Page): Promise<number[]> {
  const charts = await page.locator('svg[data-points]').all();
  return Promise.all(charts.map(async (c) => Number(await c.getAttribute('data-points'))));
}

async function waitUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const haveChromium = existsSync(CHROMIUM);

describe('web UI in a real browser', {
  skip: haveChromium ? false : `chromium not installed: ${CHROMIUM}`,
}, () => {
  const tmp = tempDir();
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  let runtime: Runtime;
  let server: RunningServer;
  let browser: BrowserContext;

  before(async () => {
    assert.ok(existsSync(join(DEFAULT_UI_ROOT, 'index.html')), `the UI is not built in ${DEFAULT_UI_ROOT}`);
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'browser-proj' });
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 860 },
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.close();
    rmSync(profile, { recursive: true, force: true });
    tmp.remove();
  });

  test('overview shows live health and charts without console errors', { timeout: 30_000 }, async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const problems = watchProblems(page);
    await page.goto(`${server.url}/`);

    for (const name of ['metastore', 'storage']) {
      const row = page.locator(`[data-backend="${name}"]`);
      await row.waitFor({ timeout: 10_000 });
      assert.equal(await row.getAttribute('data-ok'), 'true');
      assert.equal(await row.locator('.badge').textContent(), 'OK');
    }
    await page.getByRole('status').getByText('Connected').waitFor({ timeout: 10_000 });
    assert.equal(
      await page.locator('.stat', { hasText: 'Project' }).locator('dd').textContent(),
      'browser-proj',
    );
    assert.match((await page.title()) ?? '', /^Overview · browser-proj · Sluice$/);

    // Two readings draw the memory lines; three give two request-rate points.
    await waitUntil(async () => {
      const counts = await chartPoints(page);
      return counts.length === 2 && counts.every((n) => n >= 2);
    }, 15_000);
    const points = await page.locator('svg polyline').first().getAttribute('points');
    assert.ok((points ?? '').trim().split(' ').length >= 2, `polyline points: ${points}`);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-overview.png'), fullPage: true });

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-overview-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-overview-narrow.png'), fullPage: true });
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 0, `page is ${overflow}px wider than a narrow window`);

    assert.deepEqual(problems, []);
  });

  test('client routes load from the server and navigate without a reload', { timeout: 20_000 }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.evaluate('window.loadedOnce = true');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await page.evaluate('window.loadedOnce'), true, 'the page was reloaded');
    assert.equal(
      await page.getByRole('link', { name: 'Overview' }).first().getAttribute('aria-current'),
      'page',
    );
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('tables page lists catalog tables and opens a table with its columns and snapshots', {
    timeout: 30_000,
  }, async () => {
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
    const id = { namespace: ['shop'], name: 'orders' };
    await catalog.createNamespace(['shop']);
    await catalog.createTable(id, {
      schema: {
        type: 'struct',
        'schema-id': 0,
        fields: [
          { id: 1, name: 'order_id', required: true, type: 'long' },
          { id: 2, name: 'status', required: false, type: 'string' },
        ],
      },
    });
    const duck = await openDuck();
    try {
      const table = await openTable(catalog, runtime.store, duck, id);
      await table.append({ sql: "SELECT range AS order_id, 'new' AS status FROM range(1234)" });
      await table.append({ sql: "SELECT 5000 + range AS order_id, 'paid' AS status FROM range(66)" });
    } finally {
      await duck.close();
    }

    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/tables`);
    const row = page.getByRole('row', { name: /shop\.orders/ });
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.textContent()) ?? '', /1300/);
    await row.getByRole('link', { name: 'shop.orders' }).click();
    await page.getByRole('heading', { name: 'shop.orders' }).waitFor();
    await page.getByRole('cell', { name: 'order_id' }).waitFor();
    const snapshots = page.getByRole('region', { name: 'Snapshots' }).locator('tbody tr');
    assert.equal(await snapshots.count(), 2);
    // 64-bit snapshot ids are shown with every digit.
    const current = (await catalog.loadTable(id)).metadata['current-snapshot-id'];
    assert.equal(await snapshots.first().locator('code').textContent(), String(current));
    await page.screenshot({ path: join(ARTIFACTS, 'ui-table.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('SQL page runs a query, shows rows and a chart, and reports errors with their position', {
    timeout: 30_000,
  }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/sql`);
    await page
      .getByLabel('Query')
      .fill("SELECT 'p' || range AS partner, range * 10 AS revenue FROM range(5)");
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByText('5 rows').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('table.grid tbody tr').count(), 5);
    await page.getByRole('tab', { name: 'Chart' }).click();
    assert.equal(await page.locator('svg[data-bars]').getAttribute('data-bars'), '5');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-sql.png'), fullPage: true });
    await page.getByLabel('Query').fill('SELECT nope FROM nowhere');
    await page.getByRole('button', { name: 'Run' }).click();
    await page
      .getByRole('alert')
      .getByText(/nowhere/)
      .waitFor({ timeout: 15_000 });
    await page.close();
    // The failed query is an expected 400, not a page problem.
    assert.deepEqual(
      problems.filter((p) => !/HTTP 400: .*\/api\/v1\/sql/.test(p) && !/status of 400/.test(p)),
      [],
    );
  });

  test('the connection indicator notices a stopped server', { timeout: 20_000 }, async () => {
    const own = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    const page = await browser.newPage();
    try {
      await page.goto(`${own.url}/`);
      const status = page.getByRole('status');
      await status.getByText('Connected').waitFor({ timeout: 10_000 });
      await own.close();
      await status.getByText('Disconnected').waitFor({ timeout: 10_000 });
      await page
        .getByRole('alert')
        .getByText(/No answer from the server since/)
        .waitFor();
    } finally {
      await page.close();
      await own.close();
    }
  });
});
