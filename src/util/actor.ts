/**
 * Who is acting, carried along the async call chain: a user's HTTP request or SQL
 * statement, or a pipeline's task. Table commits read it to audit who changed what,
 * wherever in the code the commit happens.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { userInfo } from 'node:os';

export interface Actor {
  /** User, token owner, `pipeline:NAME` or `local:OS_USER`. */
  name: string;
  /** password, token, jwt, local, pipeline, anonymous */
  via: string;
  /** http, pgwire, iceberg, cli, pipeline, ... */
  surface: string;
  /** Extra facts for the audit row, e.g. the run and task of a pipeline. */
  detail?: Record<string, unknown>;
}

const current = new AsyncLocalStorage<Actor>();

/** Run `fn` (and everything it starts) as `actor`. */
export function withActor<T>(actor: Actor, fn: () => T): T {
  return current.run(actor, fn);
}

/**
 * The actor of the current call chain. Outside any, a task process started by a pipeline
 * (SLUICE_PIPELINE and SLUICE_RUN_ID in its environment) acts for that pipeline; anything
 * else is the local user of the project's files.
 */
export function currentActor(): Actor {
  const actor = current.getStore();
  if (actor) return actor;
  const env = process.env;
  if (env.SLUICE_PIPELINE && env.SLUICE_RUN_ID) {
    return {
      name: `pipeline:${env.SLUICE_PIPELINE}`,
      via: 'pipeline',
      surface: 'pipeline',
      detail: { run_id: env.SLUICE_RUN_ID, task_id: env.SLUICE_TASK_ID },
    };
  }
  return { name: `local:${localUser()}`, via: 'local', surface: 'cli' };
}

let osUser: string | undefined;

/** The name of the operating-system user running this process. */
export function localUser(): string {
  if (osUser === undefined) {
    try {
      osUser = userInfo().username;
    } catch {
      osUser = process.env.USER ?? 'unknown';
    }
  }
  return osUser;
}
