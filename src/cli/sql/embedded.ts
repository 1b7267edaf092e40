/**
 * Statements run by an engine opened in this process on the project's backends. Whoever can
 * read the project's files and credentials owns its data, so an embedded session is the
 * owner's: no grants apply, and each statement is audited as `local:<OS user>`. Given a
 * Sluice user (`--user`) or token (SLUICE_TOKEN), the session runs under that user's policy
 * instead (grants, approval, PII masking), to see what they see.
 */
// The audit module alone: the user store (and its password and JWT libraries) loads only for --user.
import { recordAudit, statementHash } from '../../auth/audit.js';
import type { Principal } from '../../auth/policy.js';
import type { Project } from '../../config/index.js';
// Not the engine barrel: it also loads the SQL task kind and with it zod, which this path never needs.
import { type EngineOptions, openEngine, startDuck } from '../../engine/engine.js';
import type { Engine, EngineSession } from '../../engine/types.js';
import { jsonRow } from '../../engine/values.js';
import type { Logger } from '../../observe/index.js';
import { openRuntime, type Runtime } from '../../runtime/index.js';
import { InvalidInputError, localUser } from '../../util/index.js';
import type { JsonValue, SqlRows, SqlRunner } from './types.js';

class EmbeddedRunner implements SqlRunner {
  constructor(
    readonly runtime: Runtime,
    readonly engine: Engine,
    readonly session: EngineSession,
    /** The owner's statements are audited here; a user's session audits itself. */
    readonly owner?: Pick<Principal, 'name' | 'via'>,
  ) {}

  async #audit(sql: string, outcome: 'ok' | 'failed'): Promise<void> {
    if (!this.owner) return;
    await recordAudit(this.runtime.meta, [
      {
        principal: this.owner,
        surface: 'cli',
        action: 'query',
        outcome,
        detail: { statement: statementHash(sql) },
      },
    ]).catch((err: unknown) => this.runtime.log.warn({ err }, 'writing an audit row failed'));
  }

  async run(sql: string, signal: AbortSignal): Promise<SqlRows> {
    let result: Awaited<ReturnType<EngineSession['run']>>;
    try {
      result = await this.session.run(sql, { signal });
    } catch (err) {
      await this.#audit(sql, 'failed');
      throw err;
    }
    await this.#audit(sql, 'ok');
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

/** Who an embedded session runs as: a Sluice user by name, or the holder of a token. */
export interface EmbeddedIdentity {
  user?: string;
  token?: string;
}

async function principalFor(runtime: Runtime, who: EmbeddedIdentity): Promise<Principal | undefined> {
  if (who.user === undefined && !who.token) return undefined;
  const { AuthStore } = await import('../../auth/index.js');
  const store = new AuthStore(runtime.meta);
  if (who.user !== undefined) {
    if (!(await store.listUsers()).some((u) => u.name === who.user))
      throw new InvalidInputError(`--user: no user "${who.user}"`, 'list them with: sluice users list');
    return store.principalOf(who.user, 'local');
  }
  if (who.token) return store.authenticateToken(who.token);
  return undefined;
}

/**
 * Open the project's backends and an engine reading any local file the user can read: as the
 * owner, or under the policy of `who`.
 * @throws InvalidInputError for an unknown --user; AuthenticationError for a bad token
 */
export async function openEmbedded(
  project: Project,
  log: Logger,
  readOnly: boolean,
  who: EmbeddedIdentity = {},
): Promise<SqlRunner> {
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
    const principal = await principalFor(runtime, who).catch(async (err) => {
      await engine.close();
      throw err;
    });
    if (!principal) {
      const session = await engine.openSession({ name: localUser(), readOnly });
      return new EmbeddedRunner(runtime, engine, session, { name: `local:${localUser()}`, via: 'local' });
    }
    // Loaded only here: the owner's path stays free of the server's modules.
    const { openUserSession } = await import('../../serve/sql-session.js');
    const { AuthStore } = await import('../../auth/index.js');
    const session = await openUserSession(
      engine,
      principal,
      {
        store: new AuthStore(runtime.meta),
        policy: project.config.auth,
        surface: 'cli',
        audit: runtime.meta,
        log,
      },
      { readOnly },
    );
    return new EmbeddedRunner(runtime, engine, session);
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
