/** Statements run by an engine opened in this process on the project's backends. */
import { userInfo } from 'node:os';
import type { Project } from '../../config/index.js';
// Not the engine barrel: it also loads the SQL task kind and with it zod, which this path never needs.
import { type EngineOptions, openEngine, startDuck } from '../../engine/engine.js';
import type { Engine, EngineSession } from '../../engine/types.js';
import { jsonRow } from '../../engine/values.js';
import type { Logger } from '../../observe/index.js';
import { openRuntime, type Runtime } from '../../runtime/index.js';
import type { JsonValue, SqlRows, SqlRunner } from './types.js';

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'sluice';
  }
}

class EmbeddedRunner implements SqlRunner {
  constructor(
    readonly runtime: Runtime,
    readonly engine: Engine,
    readonly session: EngineSession,
  ) {}

  async run(sql: string, signal: AbortSignal): Promise<SqlRows> {
    const result = await this.session.run(sql, { signal });
    async function* rows(): AsyncIterable<JsonValue[][]> {
      for await (const batch of result.batches()) yield batch.map(jsonRow);
    }
    return {
      columns: result.columns.map((c) => ({ name: c.name, type: c.type.toString() })),
      statementType: result.statementType,
      rowsChanged: result.rowsChanged,
      rows: rows(),
    };
  }

  async toParquet(sql: string, file: string, signal: AbortSignal): Promise<number> {
    const inner = sql.trim().replace(/;\s*$/, '');
    const copy = `COPY (${inner}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`;
    const result = await this.session.run(copy, { signal });
    let n = 0;
    for await (const batch of result.batches()) n = Number(batch[0]?.[0] ?? 0);
    return n;
  }

  async close(): Promise<void> {
    await this.session.close();
    await this.engine.close();
    await this.runtime.close();
  }
}

/** Open the project's backends and an engine reading any local file the user can read. */
export async function openEmbedded(project: Project, log: Logger, readOnly: boolean): Promise<SqlRunner> {
  const options: EngineOptions = { fileAccess: 'all' };
  // DuckDB starts on its own threads while this one opens the metastore and the store.
  const duck = startDuck(project, options);
  duck.catch(() => undefined); // a failed start is reported by openEngine below
  let runtime: Runtime;
  try {
    runtime = await openRuntime(project, log);
  } catch (err) {
    await duck.then(
      ({ admin, instance }) => {
        admin.closeSync();
        instance.closeSync();
      },
      () => undefined,
    );
    throw err;
  }
  try {
    const engine = await openEngine(runtime, options, duck);
    const session = await engine.openSession({ name: localUser(), readOnly });
    return new EmbeddedRunner(runtime, engine, session);
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
