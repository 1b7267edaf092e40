import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { type JdbcCatalog, openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import type { EngineSession, QueryResult } from '../../src/engine/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { sluiceBin, tempDir } from '../helpers/cli.js';

/** A scaffolded project with its runtime and catalog; `remove` closes and deletes it. */
export interface TestProject {
  dir: string;
  runtime: Runtime;
  catalog: JdbcCatalog;
  remove(): Promise<void>;
}

/** A fresh project: SQLite + local directory, or the given sluice.yaml content (JSON is YAML). */
export async function testProject(config?: Record<string, unknown>): Promise<TestProject> {
  const tmp = tempDir('sluice-engine-');
  const dir = join(tmp.dir, 'proj');
  await scaffoldProject(dir, { name: 'proj' });
  if (config)
    writeFileSync(join(dir, 'sluice.yaml'), JSON.stringify({ version: 1, name: 'proj', ...config }, null, 2));
  const project = await loadProject(dir);
  const runtime = await openRuntime(project, createLogger({ level: 'silent', stderr: false }));
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
  return {
    dir,
    runtime,
    catalog,
    async remove() {
      await runtime.close();
      tmp.remove();
    },
  };
}

/** All rows of a result as plain JS values (bigint → number when safe). */
export async function rowsOf(result: QueryResult): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const batch of result.batches()) for (const row of batch) out.push(row.map(plain));
  return out;
}

function plain(v: DuckDBValue): unknown {
  if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return Number(v);
  if (v !== null && typeof v === 'object') return String(v);
  return v;
}

/** Run one statement and collect its rows. */
export async function query(session: EngineSession, sql: string, params?: unknown[]): Promise<unknown[][]> {
  return rowsOf(await session.run(sql, { params }));
}

/**
 * Run `sluice sql <statement>` in a child process and SIGKILL it while it writes data files
 * (they are staged before the commit). @throws when it never started writing.
 */
export async function killWhileWriting(dir: string, statement: string): Promise<void> {
  const child = spawn(process.execPath, [sluiceBin, '--project', dir, 'sql', statement]);
  const staging = join(dir, '.sluice', 'warehouse', '.sluice-tmp');
  const writing = () => existsSync(staging) && readdirSync(staging).some((f) => f.startsWith('stage-'));
  for (let i = 0; i < 1200 && !writing(); i++) await new Promise((r) => setTimeout(r, 25));
  const started = writing();
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  if (!started) throw new Error(`the statement never started writing: ${statement}`);
}

/** Create `ns.name` with a `sku` key (long, required) and a `qty` column: a table `INSERT OR REPLACE` upserts by sku. */
export async function createKeyedTable(catalog: JdbcCatalog, ns: string, name: string): Promise<void> {
  await catalog.createTable(
    { namespace: [ns], name },
    {
      schema: {
        type: 'struct',
        'schema-id': 0,
        fields: [
          { id: 1, name: 'sku', required: true, type: 'long' },
          { id: 2, name: 'qty', required: false, type: 'long' },
        ],
        'identifier-field-ids': [1],
      },
    },
  );
}
