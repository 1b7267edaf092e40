/** Statements run by an engine opened in this process on the project's backends. */
import { userInfo } from 'node:os';
import type { Project } from '../../config/index.js';
import { type Engine, type EngineSession, jsonRow, openEngine } from '../../engine/index.js';
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
  const runtime = await openRuntime(project, log);
  try {
    const engine = await openEngine(runtime, { fileAccess: 'all' });
    const session = await engine.openSession({ name: localUser(), readOnly });
    return new EmbeddedRunner(runtime, engine, session);
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
