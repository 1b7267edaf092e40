import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject } from '../../src/config/index.js';
import { openDuck } from '../../src/duck/index.js';
import { type IngestSpec, ingestSpecSchema, ingestTaskKind } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import type { TaskContext, TaskProgress, TaskResult } from '../../src/runtime/tasks.js';
import { openTable, type Snapshot } from '../../src/table/index.js';
import { NotFoundError } from '../../src/util/index.js';

/** A temp project with its runtime (SQLite metastore, local store). */
export interface IngestEnv {
  dir: string;
  runtime: Runtime;
  close(): Promise<void>;
}

export async function openIngestEnv(sluiceYaml = 'name: ingest-test\n'): Promise<IngestEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-ingest-'));
  await writeFile(join(dir, 'sluice.yaml'), sluiceYaml);
  const project = await loadProject(dir);
  const runtime = await openRuntime(project, silentLogger);
  return {
    dir,
    runtime,
    async close() {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A task context as the orchestrator gives it. */
export function taskContext(
  runtime: Runtime,
  o: {
    pipeline?: string;
    taskId?: string;
    runId?: string;
    options?: Record<string, unknown>;
    progress?: TaskProgress[];
  } = {},
): TaskContext {
  return {
    runtime,
    log: silentLogger,
    pipeline: o.pipeline ?? 'p',
    taskId: o.taskId ?? 't',
    runId: o.runId ?? `run-${Math.random().toString(36).slice(2, 10)}`,
    attempt: 1,
    dataIntervalStart: new Date(),
    dataIntervalEnd: new Date(),
    params: {},
    signal: new AbortController().signal,
    progress: (p) => o.progress?.push(p),
    options: o.options,
  };
}

/** Parse a spec as the orchestrator does, then run it. */
export async function runSpec(
  env: IngestEnv,
  spec: unknown,
  o: Parameters<typeof taskContext>[1] = {},
): Promise<NonNullable<TaskResult['summary']>> {
  const parsed: IngestSpec = ingestSpecSchema.parse(spec);
  const result = await ingestTaskKind.run(taskContext(env.runtime, o), parsed);
  return result.summary ?? {};
}

/** Every row of a table (sorted by `orderBy`), or undefined when it does not exist. */
export async function tableRows(
  runtime: Runtime,
  name: string,
  orderBy = '1',
): Promise<Record<string, unknown>[] | undefined> {
  const parts = name.split('.');
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
  const duck = await openDuck({ threads: 1, memoryLimit: '512MB' });
  try {
    const table = await openTable(catalog, runtime.store, duck, {
      namespace: parts.slice(0, -1),
      name: parts.at(-1) as string,
    });
    const plan = await table.planScan();
    return await duck.all(`SELECT * FROM (${table.scanSql(plan)}) ORDER BY ${orderBy}`);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  } finally {
    await duck.close();
  }
}

/** The snapshots of a table. */
export async function tableSnapshots(runtime: Runtime, name: string): Promise<Snapshot[]> {
  const parts = name.split('.');
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
  const duck = await openDuck({ threads: 1 });
  try {
    const table = await openTable(catalog, runtime.store, duck, {
      namespace: parts.slice(0, -1),
      name: parts.at(-1) as string,
    });
    return table.snapshots();
  } finally {
    await duck.close();
  }
}

/** JSON-safe copy of rows (bigints as numbers). */
export function plainRows(rows: Record<string, unknown>[] | undefined): Record<string, unknown>[] {
  return JSON.parse(JSON.stringify(rows ?? [], (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}
