import { fork } from 'node:child_process';
import { silentLogger } from '../../src/observe/index.js';
import { defineSystemTable, type SystemRuntime } from '../../src/system/index.js';
import { openTable } from '../../src/table/index.js';
import type { CatalogEnv } from '../table/table-helpers.js';

/** A runtime over a catalog environment's metastore and store. */
export function runtimeOf(env: CatalogEnv): SystemRuntime {
  return { meta: env.meta, store: env.store, log: silentLogger };
}

/** A table with one column of most primitive types. */
export const events = defineSystemTable<{
  id: number | bigint;
  at: Date | string | number;
  kind: string;
  ok?: boolean | null;
  score?: number | null;
  amount?: string | number | null;
  day?: string | null;
  uid?: string | null;
  payload?: Uint8Array | null;
}>({
  name: 'test_events',
  columns: [
    { name: 'id', type: 'long', required: true, doc: 'event id' },
    { name: 'at', type: 'timestamptz', required: true },
    { name: 'kind', type: 'string', required: true },
    { name: 'ok', type: 'boolean' },
    { name: 'score', type: 'double' },
    { name: 'amount', type: 'decimal(12,2)' },
    { name: 'day', type: 'date' },
    { name: 'uid', type: 'uuid' },
    { name: 'payload', type: 'binary' },
  ],
  partitionBy: [{ column: 'at', transform: 'day' }],
});

/** Rows of a system table through DuckDB, ordered by the first column. */
export async function readSystemTable(
  env: CatalogEnv,
  name: string,
  columns = '*',
): Promise<Record<string, unknown>[]> {
  const table = await openTable(env.catalog, env.store, env.duck, { namespace: ['sluice_system'], name });
  const sql = table.scanSql(await table.planScan());
  return env.duck.all(`SELECT ${columns} FROM (${sql}) ORDER BY 1`);
}

/** Rows waiting in the outbox. */
export async function outboxCount(env: CatalogEnv): Promise<number> {
  const [r] = await env.meta.query<{ n: number }>('SELECT COUNT(*) AS n FROM sluice_system_outbox');
  return Number(r?.n);
}

/**
 * Run a flush in a child process that stops (and waits to be killed) at `stage`; resolves
 * once the child reached it, after killing it with SIGKILL.
 */
export async function killFlushAt(metaUrl: string, storage: unknown, stage: string): Promise<void> {
  const child = fork(
    new URL('./flush-worker.js', import.meta.url),
    [metaUrl, JSON.stringify(storage), stage],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => {
      if (m === `at ${stage}`) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`flush child exited with ${code} before ${stage}`)),
    );
  });
}
