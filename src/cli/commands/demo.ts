import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { openBusService } from '../../bus/index.js';
import { scaffoldProject, templateStatus } from '../../config/index.js';
import { CLICK_EVENT_TYPES, generateClickstream, publishEvents } from '../../demo/clickstream.js';
import { startMockMarketplace } from '../../demo/mock-marketplace.js';
import type { Engine } from '../../engine/index.js';
import { sharedOrchestrator } from '../../orchestrator/index.js';
import { openRuntime } from '../../runtime/index.js';
import { startServer } from '../../serve/index.js';
import { type PgWireServer, startPgWire } from '../../serve/pgwire/index.js';
import { startSystemTableFlusher } from '../../system/index.js';
import { errorMessage } from '../../util/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';
import { RunProgress } from './run-progress.js';

/** Rows of a small query through the engine, as plain values. */
async function rows(engine: Engine, sql: string): Promise<unknown[][]> {
  const session = await engine.openSession({ name: 'demo', readOnly: true });
  try {
    const result = await session.run(sql);
    const out: unknown[][] = [];
    for await (const batch of result.batches())
      out.push(...batch.map((r) => r.map((v) => (v === null ? null : String(v)))));
    return out;
  } finally {
    await session.close();
  }
}

async function count(engine: Engine, table: string): Promise<number> {
  try {
    return Number((await rows(engine, `SELECT count(*) FROM ${table}`))[0]?.[0] ?? 0);
  } catch {
    return 0;
  }
}

/** Tell the user when the demo project's files come from an older template, and how to upgrade. */
async function noteOlderTemplate(dir: string, shown: string, note: (text: string) => void): Promise<void> {
  let status: Awaited<ReturnType<typeof templateStatus>>;
  try {
    status = await templateStatus(dir, 'marketplace');
  } catch (err) {
    note(`Cannot compare ${shown} with the marketplace template: ${errorMessage(err)}`);
    return;
  }
  if (status.current) return;
  note(
    `  ${shown} was created from an older version of the "${status.template}" template. To update the files you have not edited (edited ones are kept and listed):\n` +
      `    npx sluice init ${shown} --template ${status.template} --upgrade`,
  );
}

/** Start listening on the configured port, or any free one when it is taken. */
async function listen<T>(start: (port: number) => Promise<T>, port: number): Promise<T> {
  try {
    return await start(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return start(0);
  }
}

/**
 * The newcomer's first command: a marketplace project (created once, reused after) fed by a
 * built-in mock vendor API and a clickstream, its pipelines run once, then the whole platform
 * served. Only the sources are mock; everything downstream is the real product.
 */
export default async function demo(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const dir = resolve(String(args[0] ?? 'sluice-demo'));
  const serve = cmd.opts<{ serve?: boolean }>().serve !== false;
  const created = !existsSync(join(dir, 'sluice.yaml'));
  if (created) await scaffoldProject(dir, { name: 'sluice-demo', template: 'marketplace' });

  const api = await startMockMarketplace({ advanceMs: serve ? 60_000 : undefined });
  process.env.MARKETPLACE_URL = api.url;
  process.env.MARKETPLACE_TOKEN = api.token;
  const { project, log, out } = await openCommand({ ...globals, project: dir });
  const shown = relative(process.cwd(), dir) || '.';
  const step = (text: string) => out.note(`\n▸ ${text}`);
  out.note(
    `${created ? 'Created' : 'Using'} the demo project in ${shown} (sluice.yaml, pipelines/, models/, events/)`,
  );
  if (!created) await noteOlderTemplate(dir, shown, out.note);
  out.note(`Mock marketplace API at ${api.url} (bearer auth, rate limit, occasional 500s)`);

  const runtime = await openRuntime(project, log);
  const closers: (() => Promise<unknown>)[] = [() => api.close(), () => runtime.close()];
  const closeAll = async () => {
    for (const close of closers) await close().catch((err) => log.warn({ err }, 'closing the demo'));
  };
  try {
    step('Starting the server: HTTP API, web UI, event bus, SQL engine');
    const bus = await openBusService(runtime);
    closers.unshift(() => bus.close());
    const { server } = project.config;
    const running = await listen(
      (port) => startServer(runtime, { host: server.host, httpPort: port, bus: bus.bus }),
      serve ? server.http : 0,
    );
    closers.unshift(() => running.close());
    let pg: PgWireServer | undefined;
    if (serve) {
      pg = await listen(
        (port) =>
          startPgWire(running.engine, { config: project.config.pgwire, dir, host: server.host, port, log }),
        server.pg,
      );
      closers.unshift(() => (pg as PgWireServer).close());
    }
    const flusher = startSystemTableFlusher(runtime);
    closers.unshift(() => flusher.stop());
    const orch = await sharedOrchestrator(runtime);
    closers.unshift(() => orch.close({ abort: true }));
    await orch.startWorker({ concurrency: 4, role: 'demo' });

    step('Publishing a clickstream to the event bus (500 domains × 10 partners)');
    const clicks = generateClickstream({ sessions: 3000 });
    const expected: Record<string, number> = {};
    for (const type of CLICK_EVENT_TYPES) {
      const before = await count(running.engine, sinkTable(type));
      const sent = await publishEvents(running.url, type, clicks[type]);
      const distinct = new Set(clicks[type].map((e) => e.metadata.eid)).size;
      expected[type] = before + distinct;
      out.note(`  ${type}: ${sent} events published (${sent - distinct} duplicates on purpose)`);
    }

    // What the `model:` tasks built and tested (the marts are the dbt project of models/).
    const models: ModelTaskSummary[] = [];
    step('Running pipeline "marketplace": API → raw zone → validated, upserted tables → marts');
    const exit = await runPipeline('marketplace');

    step('Landing the clickstream in the lake (deduplicated by eid)');
    const deadline = Date.now() + 60_000;
    for (const type of CLICK_EVENT_TYPES) {
      const table = sinkTable(type);
      let landed = await count(running.engine, table);
      while (landed < (expected[type] ?? 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        landed = await count(running.engine, table);
      }
      out.note(`  ${table}: ${landed} rows`);
    }
    step('Running pipeline "clickstream": the funnel mart');
    const exit2 = await runPipeline('clickstream');
    await flusher.flushNow();

    const summary = await summarize(running.engine);
    out.result({ project: dir, url: running.url, tables: Object.fromEntries(summary), models });
    out.line('');
    out.line(
      formatTable(
        summary.map(([t, n]) => [t, String(n)]),
        { header: ['table', 'rows'] },
      ),
    );
    out.line('');
    out.line('Try:');
    out.line(
      `  npx sluice sql --project ${shown} "SELECT * FROM marts.daily_revenue ORDER BY revenue DESC LIMIT 10"`,
    );
    out.line(
      `  npx sluice sql --project ${shown} "SELECT __reason, count(*) FROM marketplace.customers__quarantine GROUP BY 1"`,
    );
    out.line(`  npx sluice runs list --project ${shown}`);
    if (!serve) {
      out.line(
        `  npx sluice serve --project ${shown}   # web UI, SQL over the PostgreSQL protocol, event bus`,
      );
      await closeAll();
      return exit || exit2;
    }
    await orch.scheduler().start();
    out.line('');
    out.line(`Serving the demo (Ctrl-C stops everything):`);
    out.line(`  web UI           ${running.url}/`);
    if (pg) out.line(`  psql             psql -h ${server.host} -p ${pg.port} -U sluice sluice`);
    out.line(
      `  Iceberg catalog  ${running.url}/iceberg  (Spark, Trino, PyIceberg: type=rest, uri=${running.url}/iceberg)`,
    );
    out.line(`  event bus        ${running.url}/event-types`);
    out.line(`  metrics          ${running.url}/metrics`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    out.note('stopping…');
    await closeAll();
    return 0;

    async function runPipeline(name: string): Promise<number> {
      const { runId } = await orch.trigger(name, {});
      const progress = out.json ? undefined : new RunProgress();
      const run = await orch.waitForRun(runId, { onUpdate: (r, t) => progress?.update(r, t) });
      const tasks = await orch.taskRuns(runId);
      for (const t of tasks.filter((x) => x.state !== 'success'))
        out.note(`  task ${t.taskId} ${t.state}${t.error ? `: ${t.error.split('\n')[0]}` : ''}`);
      for (const t of tasks) {
        const m = modelSummary(t.taskId, t.summary);
        if (!m) continue;
        models.push(m);
        const warned = m.warnings.length ? `, ${m.warnings.length} warned (${m.warnings.join(', ')})` : '';
        out.note(
          `  ${m.task}: ${m.built} models built, ${m.tests - m.testsFailed.length - m.warnings.length} of ${m.tests} data tests passed${warned}`,
        );
      }
      out.note(`  run ${runId} ${run.state}`);
      return run.state === 'success' ? 0 : 1;
    }
  } catch (err) {
    out.note(`the demo failed: ${errorMessage(err)}`);
    await closeAll();
    throw err;
  }
}

/** The summary of a `model` task run: models built, data tests run, failed and warned. */
interface ModelTaskSummary {
  task: string;
  built: number;
  tests: number;
  testsFailed: string[];
  warnings: string[];
}

function modelSummary(task: string, s: Record<string, unknown> | null): ModelTaskSummary | undefined {
  if (!s || typeof s.built !== 'number' || typeof s.tests !== 'number') return undefined;
  const names = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return {
    task,
    built: s.built,
    tests: s.tests,
    testsFailed: names(s.testsFailed),
    warnings: names(s.warnings),
  };
}

/** The table a bus sink lands an event type in. */
function sinkTable(eventType: string): string {
  return `events.${eventType.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Row counts of every table the demo builds. */
async function summarize(engine: Engine): Promise<[string, number][]> {
  const tables = await rows(
    engine,
    "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN ('marketplace', 'events', 'marts') ORDER BY 1",
  );
  const out: [string, number][] = [];
  for (const [name] of tables) out.push([String(name), await count(engine, String(name))]);
  return out;
}
