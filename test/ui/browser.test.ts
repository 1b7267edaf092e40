import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type BusService, openBusService } from '../../src/bus/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { CLICK_EVENT_TYPES, generateClickstream, publishEvents } from '../../src/demo/clickstream.js';
import { type MockMarketplace, startMockMarketplace } from '../../src/demo/mock-marketplace.js';
import { openDuck } from '../../src/duck/index.js';
import { MonitorService } from '../../src/monitor/index.js';
import { createLogger } from '../../src/observe/index.js';
import { type Orchestrator, sharedOrchestrator } from '../../src/orchestrator/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { DEFAULT_UI_ROOT, type RunningServer, startServer } from '../../src/serve/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { openTable } from '../../src/table/index.js';
import { tempDir } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const DBT_SHOP = new URL('../../../test/fixtures/dbt-shop/', import.meta.url).pathname;
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
  page.on('requestfailed', (r) => {
    // Leaving a page abandons its open event stream and any poll in flight: the browser reports
    // those as aborted, which is no fault of the server or the page.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** The number of drawn values in each chart of the page (or of one of its regions). */
async function chartPoints(page: Page, region?: string): Promise<number[]> {
  const scope = region ? page.getByRole('region', { name: region }) : page;
  const charts = await scope.locator('svg[data-points]').all();
  return Promise.all(charts.map(async (c) => Number(await c.getAttribute('data-points'))));
}

/**
 * Replace the text of the SQL editor the way typing does. (`fill` edits through execCommand,
 * whose inline styles the UI's Content-Security-Policy blocks, so it logs errors no user sees.)
 */
async function setQuery(page: Page, text: string): Promise<void> {
  await page.getByLabel('Query').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  if (text) await page.keyboard.insertText(text);
}

async function waitUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const haveChromium = existsSync(CHROMIUM);

/** How long the SQL page case waits for one statement's answer from the server. */
const STATEMENT_WAIT = 30_000;
describe('web UI in a real browser', {
  skip: haveChromium ? false : `chromium not installed: ${CHROMIUM}`,
}, () => {
  const tmp = tempDir();
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  let runtime: Runtime;
  let server: RunningServer;
  let browser: BrowserContext;
  let api: MockMarketplace;
  let bus: BusService;
  let orch: Orchestrator;
  let runId: string;
  const savedEnv = { url: process.env.MARKETPLACE_URL, token: process.env.MARKETPLACE_TOKEN };

  before(async () => {
    assert.ok(existsSync(join(DEFAULT_UI_ROOT, 'index.html')), `the UI is not built in ${DEFAULT_UI_ROOT}`);
    // The demo's marketplace project against a small mock vendor API: real runs, tables,
    // quarantine, marts and event types for every page to show.
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'browser-proj', template: 'marketplace' });
    api = await startMockMarketplace({
      failEvery: 0,
      size: { partners: 4, domainsPerPartner: 3, products: 40, customers: 260, orders: 400 },
    });
    process.env.MARKETPLACE_URL = api.url;
    process.env.MARKETPLACE_TOKEN = api.token;
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    bus = await openBusService(runtime);
    server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0, bus: bus.bus });
    const clicks = generateClickstream({ sessions: 40, partners: 4, domainsPerPartner: 3 });
    for (const type of CLICK_EVENT_TYPES) await publishEvents(server.url, type, clicks[type]);
    // Chromium starts while the pipeline runs.
    const launching = chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 860 },
    });
    orch = await sharedOrchestrator(runtime);
    await orch.startWorker({ concurrency: 4 });
    runId = (await orch.trigger('marketplace', {})).runId;
    const run = await orch.waitForRun(runId);
    browser = await launching;
    assert.equal(run.state, 'success', JSON.stringify(await orch.taskRuns(runId)));
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await orch?.close({ abort: true });
    await server?.close();
    bus?.bus.shutdown();
    await bus?.close();
    await runtime?.close();
    await api?.close();
    process.env.MARKETPLACE_URL = savedEnv.url;
    process.env.MARKETPLACE_TOKEN = savedEnv.token;
    if (savedEnv.url === undefined) delete process.env.MARKETPLACE_URL;
    if (savedEnv.token === undefined) delete process.env.MARKETPLACE_TOKEN;
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
      const counts = await chartPoints(page, 'Activity');
      return counts.length === 2 && counts.every((n) => n >= 2);
    }, 15_000);
    // Platform charts: runs per hour (the run of the setup), freshness and quarantine bars, bus lines.
    const runs = page.getByRole('region', { name: 'Runs' });
    await waitUntil(
      async () => Number(await runs.locator('svg[data-bars]').first().getAttribute('data-bars')) >= 1,
      10_000,
    );
    const tables = page.getByRole('region', { name: 'Tables' });
    await tables.getByRole('img', { name: /^Freshness/ }).waitFor({ timeout: 10_000 });
    const quarantine = tables.getByRole('img', { name: 'Quarantined rows' });
    await quarantine.waitFor({ timeout: 10_000 });
    assert.ok(
      Number(await quarantine.getAttribute('data-bars')) >= 1,
      'the bad vendor records are quarantined',
    );
    await waitUntil(async () => {
      const counts = await chartPoints(page, 'Event bus');
      return counts.length === 2 && counts.every((n) => n >= 1);
    }, 15_000);
    const points = await page
      .getByRole('region', { name: 'Activity' })
      .locator('svg polyline')
      .first()
      .getAttribute('points');
    assert.ok((points ?? '').trim().split(' ').length >= 2, `polyline points: ${points}`);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-overview.png'), fullPage: true });

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-overview-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-overview-narrow.png'), fullPage: true });
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 0, `page is ${overflow}px wider than a narrow window`);
    // Its polling would only load the server during the next tests.
    await page.goto('about:blank');

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
    // The table list comes first, then the metadata of the tables on the page.
    await waitUntil(async () => /1300/.test((await row.textContent()) ?? ''), 10_000);
    await row.getByRole('link', { name: 'shop.orders' }).click();
    await page.getByRole('heading', { name: 'shop.orders' }).waitFor();
    await page.getByRole('cell', { name: 'order_id' }).waitFor();
    const snapshots = page.getByRole('region', { name: 'Snapshots' }).locator('tbody tr');
    assert.equal(await snapshots.count(), 2);
    // 64-bit snapshot ids are shown with every digit.
    const current = (await catalog.loadTable(id)).metadata['current-snapshot-id'];
    assert.equal(await snapshots.first().locator('code').textContent(), String(current));
    await page.screenshot({ path: join(ARTIFACTS, 'ui-table.png'), fullPage: true });

    // Time travel: the older snapshot's rows, then a rollback through the confirmation dialog.
    const older = await snapshots.nth(1).getAttribute('data-snapshot');
    await snapshots.nth(1).getByRole('button').click();
    const atSnapshot = page.getByRole('region', { name: `Rows at snapshot ${older}` });
    await atSnapshot
      .getByRole('table')
      .locator('tbody tr')
      .first()
      .waitFor({ timeout: 10_000 })
      .catch(async (err) => {
        await page.screenshot({ path: join(ARTIFACTS, 'ui-table-failed.png'), fullPage: true });
        throw new Error(`${err}\n${await page.locator('main').textContent()}`);
      });
    assert.equal(await atSnapshot.getByRole('table').locator('tbody tr').count(), 50);
    assert.equal(await atSnapshot.getByRole('cell', { name: 'paid' }).count(), 0, 'only the first append');
    await atSnapshot.getByRole('button', { name: 'Roll back to this snapshot' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back shop.orders?' });
    await dialog.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ui-table-rollback.png'), fullPage: true });
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await atSnapshot
      .getByRole('status')
      .getByText(/Rolled back/)
      .waitFor({ timeout: 10_000 });
    assert.equal(String((await catalog.loadTable(id)).metadata['current-snapshot-id']), older);
    // The commit's live event marks the new current snapshot without a reload.
    await page.locator(`tr.current[data-snapshot="${older}"]`).waitFor({ timeout: 10_000 });
    assert.match(
      (await page.locator('.stat', { hasText: 'Rows' }).locator('dd').textContent()) ?? '',
      /^1234$/,
    );
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('SQL page runs a query, shows rows and a chart, and reports errors with their position', {
    timeout: 150_000,
  }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/sql`);
    await page.locator('.sql-codemirror[data-tables]').waitFor({ timeout: 10_000 });
    await setQuery(page, "SELECT 'p' || range AS partner, range * 10 AS revenue FROM range(5)");
    await page.getByRole('button', { name: 'Run' }).click();
    // A statement's round trip is well under a second on an idle machine; a fully loaded CI
    // machine has taken over 15 s, so the waits for the server here allow STATEMENT_WAIT.
    await page.locator('.result-head').getByText('5 rows').waitFor({ timeout: STATEMENT_WAIT });
    assert.equal(await page.getByRole('table', { name: 'Result rows' }).locator('tbody tr').count(), 5);
    await page.getByRole('tab', { name: 'Chart' }).click();
    assert.equal(await page.locator('svg[data-bars]').getAttribute('data-bars'), '5');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-sql.png'), fullPage: true });
    // Download Parquet runs the query again on the server; DuckDB reads the file back.
    const downloading = page.waitForEvent('download', { timeout: STATEMENT_WAIT });
    await page.getByRole('button', { name: 'Download Parquet' }).click();
    const download = await downloading;
    assert.equal(download.suggestedFilename(), 'result.parquet');
    const saved = join(tmp.dir, 'result.parquet');
    await download.saveAs(saved);
    const duck = await openDuck();
    try {
      const rows = await duck.all<{ partner: string; revenue: bigint }>(
        `SELECT partner, revenue FROM read_parquet('${saved}') ORDER BY revenue`,
      );
      assert.deepEqual(
        rows.map((r) => [r.partner, Number(r.revenue)]),
        [0, 1, 2, 3, 4].map((i) => [`p${i}`, i * 10]),
      );
    } finally {
      await duck.close();
    }
    // Completion offers table names of a namespace (from the catalog) and columns of a named table.
    await page.locator('.sql-codemirror[data-tables]').waitFor({ timeout: 10_000 });
    const editor = page.getByLabel('Query');
    await setQuery(page, '');
    await editor.pressSequentially('SELECT * FROM marts.daily_r');
    const options = page.locator('.cm-tooltip-autocomplete li');
    await options.filter({ hasText: 'daily_revenue' }).first().waitFor({ timeout: 10_000 });
    // CodeMirror ignores Enter for a moment after the list opens (so a fast typist is not surprised).
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    assert.match((await editor.textContent()) ?? '', /FROM\s+marts\.daily_revenue/);
    await editor.pressSequentially(' WHERE part');
    await options.filter({ hasText: 'partner' }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-sql-completion.png'), fullPage: true });
    await page.keyboard.press('Escape');
    // Ctrl+Enter runs; the query lands in the history, and a click there brings it back.
    await setQuery(page, 'SELECT 42 AS answer');
    await page.keyboard.press('Control+Enter');
    await page
      .locator('.result-head')
      .getByText(/^1 row in/)
      .waitFor({ timeout: STATEMENT_WAIT });
    const history = page.getByRole('region', { name: 'History' });
    await history.getByText('SELECT 42 AS answer').waitFor();
    await history.getByText("SELECT 'p' || range").click();
    assert.match((await editor.textContent()) ?? '', /SELECT 'p' \|\| range/);
    await setQuery(page, 'SELECT nope FROM nowhere');
    await page.getByRole('button', { name: 'Run' }).click();
    await page
      .getByRole('alert')
      .getByText(/nowhere/)
      .waitFor({ timeout: STATEMENT_WAIT });
    await page.close();
    // The failed query is an expected 400, not a page problem.
    assert.deepEqual(
      problems.filter((p) => !/HTTP 400: .*\/api\/v1\/sql/.test(p) && !/status of 400/.test(p)),
      [],
    );
  });

  test('pipelines, the task graph, run history and a run with its tasks and logs', {
    timeout: 40_000,
  }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/pipelines`);
    const row = page.locator('tr[data-pipeline="marketplace"]');
    await row.locator('[data-state="success"]').waitFor({ timeout: 10_000 });
    assert.match((await row.textContent()) ?? '', /\*\/15 \* \* \* \*/);
    assert.match((await row.textContent()) ?? '', /in \d+ (min|s)/, 'the next scheduled run');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-pipelines.png'), fullPage: true });

    await row.getByRole('link', { name: 'marketplace' }).click();
    const tasks = orch.pipeline('marketplace').def.tasks;
    const nodes = page.locator('svg[data-tasks] g.dag-node');
    await page
      .locator('svg[data-tasks] g.dag-node[data-state="success"]')
      .first()
      .waitFor({ timeout: 10_000 });
    assert.equal(await nodes.count(), tasks.length);
    assert.equal(
      await page.locator('svg[data-tasks] path.dag-edge').count(),
      tasks.flatMap((t) => t.depends_on).length,
    );
    assert.deepEqual(
      new Set(await nodes.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))),
      new Set(['success']),
    );
    await page.getByRole('region', { name: 'Run history' }).locator(`tr[data-run="${runId}"]`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ui-pipeline.png'), fullPage: true });

    await page.goto(`${server.url}/runs`);
    await page.locator(`tr[data-run="${runId}"]`).waitFor({ timeout: 10_000 });
    await page.locator(`tr[data-run="${runId}"]`).getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Run / }).waitFor();
    const bars = page.getByRole('table', { name: 'Task instances' }).locator('tr[data-task]');
    await bars.first().waitFor({ timeout: 10_000 });
    assert.equal(await bars.count(), tasks.length);
    assert.equal(await page.locator('.gantt .span').count(), tasks.length, 'a time bar per task');
    await bars.first().getByRole('button').click();
    const logs = page.getByRole('region', { name: /^Logs of / });
    await logs.waitFor();
    await logs.locator('pre.logs, p.muted').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-run.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('a run triggered from the pipeline page runs and shows its state', { timeout: 30_000 }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/pipelines/clickstream`);
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.waitForURL(/\/runs\/[^/]+$/, { timeout: 10_000 });
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    assert.notEqual(id, runId);
    const state = page.locator('.page-head > [data-state]');
    await waitUntil(
      async () => ['success', 'failed'].includes((await state.getAttribute('data-state')) ?? ''),
      20_000,
    );
    assert.equal((await orch.getRun(id)).trigger, 'manual');
    assert.equal(await state.getAttribute('data-state'), (await orch.getRun(id)).state);
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('a run started elsewhere appears and finishes on the runs page through the live stream', {
    timeout: 40_000,
  }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/runs`);
    await page.locator(`tr[data-run="${runId}"]`).waitFor({ timeout: 10_000 });
    await waitUntil(async () => (await metric('sluice_http_stream_clients')) >= 1, 10_000);
    // Without the stream the page would poll once a minute: the run shows up well before that.
    const id = (await orch.trigger('clickstream', {})).runId;
    const row = page.locator(`tr[data-run="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await orch.waitForRun(id);
    await row.locator(`[data-state="${(await orch.getRun(id)).state}"]`).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-runs-live.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('a backfill from the pipeline page creates one run per interval and lists them', {
    timeout: 40_000,
  }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/pipelines/clickstream`);
    await page.getByRole('button', { name: 'Backfill…' }).click();
    const form = page.getByRole('form', { name: 'Backfill' });
    await form.getByLabel('From (UTC)').fill('2026-01-01T00:00');
    await form.getByLabel('To (UTC)').fill('2026-01-01T00:20');
    await form.getByLabel('Max parallel').fill('2');
    await form.getByLabel(/^Params/).fill('source=backfill-test');
    await form.getByRole('button', { name: 'Start backfill' }).click();
    const rows = form.getByRole('table', { name: 'Backfill runs' }).locator('tbody tr');
    await rows.first().waitFor({ timeout: 15_000 });
    assert.equal(await rows.count(), 2, 'intervals at 00:00 and 00:15');
    const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-backfill-run')));
    for (const id of ids) {
      assert.ok(id);
      const run = await orch.waitForRun(id);
      assert.equal(run.trigger, 'backfill');
      assert.deepEqual(run.params, { source: 'backfill-test' });
    }
    await page
      .getByRole('region', { name: 'Run history' })
      .locator(`tr[data-run="${ids[0]}"]`)
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-backfill.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('models page draws the lineage graph and opens a model with its SQL and last build', {
    timeout: 20_000,
  }, async () => {
    // The template's own models (dbt_project.yml at the project root), built by the marketplace run.
    const own = (await (await fetch(`${server.url}/api/v1/models`)).json()) as {
      nodes: { name: string; build: unknown }[];
      edges: unknown[];
    };
    assert.ok(own.nodes.find((n) => n.name === 'daily_revenue')?.build, JSON.stringify(own.nodes));
    assert.ok(own.edges.length > 0);
    const first = await browser.newPage();
    const firstProblems = watchProblems(first);
    await first.goto(`${server.url}/models`);
    await first.locator('g.dag-node[data-task="daily_revenue"]').waitFor({ timeout: 10_000 });
    assert.equal(await first.locator('svg[data-tasks] g.dag-node').count(), own.nodes.length);
    await first.close();
    assert.deepEqual(firstProblems, []);
    // A second dbt project beside the template's own, that is not built yet.
    cpSync(DBT_SHOP, join(runtime.project.dir, 'dbt'), { recursive: true });
    const graph = (await (await fetch(`${server.url}/api/v1/models?dir=dbt`)).json()) as {
      nodes: { name: string; kind: string; build: unknown }[];
      edges: unknown[];
    };
    assert.ok(graph.nodes.length > 0);
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/models?dir=dbt`);
    const nodes = page.locator('svg[data-tasks] g.dag-node');
    await nodes.first().waitFor({ timeout: 10_000 });
    assert.equal(await nodes.count(), graph.nodes.length);
    assert.equal(await page.locator('svg[data-tasks] path.dag-edge').count(), graph.edges.length);
    const model = graph.nodes.find((n) => n.kind === 'model' && n.name === 'customers');
    assert.ok(model, JSON.stringify(graph.nodes.map((n) => n.name)));
    await page.locator(`g.dag-node[data-task="${model.name}"]`).click();
    const detail = page.getByRole('region', { name: `model ${model.name}` });
    await detail.locator('pre.compiled-sql').waitFor();
    // refs are compiled to lake tables.
    assert.match(
      (await detail.locator('pre.compiled-sql').textContent()) ?? '',
      /select[\s\S]*from \w+\.\w+/i,
    );
    assert.ok(
      (await detail
        .getByRole('table', { name: `Columns of ${model.name}` })
        .locator('tbody tr')
        .count()) > 0,
    );
    await detail.getByText('not built').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ui-models.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  }

  test('events page lists event types with stored events and shows a schema', {
    timeout: 20_000,
  }, async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/events`);
    const row = page.locator('tr[data-event-type="marketplace.page_view"]');
    await row.waitFor({ timeout: 10_000 });
    const stored = Number(((await row.locator('td').nth(4).textContent()) ?? '').replace(/\D/g, ''));
    assert.ok(stored > 0, `stored events: ${stored}`);
    await row.getByRole('button', { name: 'marketplace.page_view' }).click();
    const schema = page.getByRole('region', { name: 'Schema of marketplace.page_view' });
    await schema.getByText('"partner_id"').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-events.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('monitoring page charts the revenue mart per partner, with checks', { timeout: 30_000 }, async () => {
    // The template's rule, checked once as `sluice serve` would.
    const monitors = new MonitorService(runtime, { engine: server.engine });
    try {
      assert.equal((await monitors.checkNow('revenue_per_partner'))[0]?.error, undefined);
    } finally {
      await monitors.stop();
    }
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/monitoring`);
    const rule = page.locator('tr[data-rule="revenue_per_partner"]');
    await rule.waitFor({ timeout: 15_000 });
    assert.match((await rule.textContent()) ?? '', /anomaly ×2[\s\S]*(ok|firing \d+)/);
    await rule.getByRole('button', { name: 'Open revenue_per_partner as a chart' }).click();
    const charts = page.locator('[data-dimension] svg[data-points]');
    await charts.first().waitFor({ timeout: 15_000 });
    const partners = Number(
      (await runtimeRows(`SELECT count(DISTINCT partner) FROM marts.daily_revenue`))[0]?.[0] ?? 0,
    );
    assert.ok(partners > 0);
    assert.equal(await charts.count(), Math.min(partners, 12));
    assert.ok(Number(await charts.first().getAttribute('data-points')) > 0);
    assert.equal(await page.locator('tr[data-check]').count(), partners);
    assert.match(page.url(), /table=marts\.daily_revenue.*dimension=partner/);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-monitoring.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('audit page lists who changed which table, filtered by action', { timeout: 30_000 }, async () => {
    await flushSystemTables(runtime);
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}/audit`);
    await page.getByRole('table', { name: 'Audit rows' }).waitFor({ timeout: 10_000 });
    // A changed filter queries at once, not at the next poll (every 10 s).
    const filtered = page.waitForRequest(
      (r) => r.url().endsWith('/api/v1/sql') && /%commit%/.test(r.postData() ?? ''),
      {
        timeout: 8_000,
      },
    );
    await page.getByPlaceholder('Action (commit, query, grant…)').fill('commit');
    await filtered;
    const rows = page.getByRole('table', { name: 'Audit rows' }).locator('tbody tr');
    // The filtered query replaces the first, unfiltered page of rows.
    let texts: string[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      texts = await rows.allTextContents();
      if (texts.length > 0 && texts.every((t) => /commit/.test(t))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(texts.length > 0 && texts.every((t) => /commit/.test(t)), texts.slice(0, 3).join('\n'));
    assert.ok(
      texts.some(
        (t) => /pipeline:marketplace/.test(t) && /table:marketplace\.orders/.test(t) && /"run_id"/.test(t),
      ),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'ui-audit.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  async function runtimeRows(sql: string): Promise<unknown[][]> {
    const res = await fetch(`${server.url}/api/v1/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { rows: unknown[][] }).rows;
  }

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
