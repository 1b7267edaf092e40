/**
 * The task kinds a pipeline may use, by key. Each area contributes its kind with one line
 * in `defaultTaskKinds` (e.g. `ingestTaskKind` from src/ingest); a task whose key names no
 * registered kind is a load error with file:line.
 */
import { publishTaskKind } from '../bus/index.js';
import { sqlTaskKind } from '../engine/index.js';
import { cdc as cdcTaskKind } from '../ingest/cdc/index.js';
import { ingestTaskKind } from '../ingest/index.js';
import { modelTaskKind } from '../models/index.js';
import type { TaskKind } from '../runtime/tasks.js';
import { InvalidInputError } from '../util/index.js';
import { noopTaskKind } from './kinds/noop.js';
import { runTaskKind } from './kinds/run.js';

/** A set of task kinds, by name. */
export class TaskKindRegistry {
  readonly #kinds = new Map<string, TaskKind>();

  /** Add a kind. @throws InvalidInputError when its name is taken or collides with a task key. */
  register<S>(kind: TaskKind<S>): this {
    if (this.#kinds.has(kind.name))
      throw new InvalidInputError(`task kind "${kind.name}" is registered twice`);
    if (RESERVED.has(kind.name)) {
      throw new InvalidInputError(
        `task kind name "${kind.name}" is a task key (${[...RESERVED].join(', ')})`,
      );
    }
    this.#kinds.set(kind.name, kind as unknown as TaskKind);
    return this;
  }

  has(name: string): boolean {
    return this.#kinds.has(name);
  }

  /** The kind named `name`. @throws InvalidInputError for an unknown kind. */
  get(name: string): TaskKind {
    const kind = this.#kinds.get(name);
    if (!kind) {
      throw new InvalidInputError(`unknown task kind "${name}"; known kinds: ${this.names().join(', ')}`);
    }
    return kind;
  }

  list(): TaskKind[] {
    return [...this.#kinds.values()];
  }

  names(): string[] {
    return [...this.#kinds.keys()].sort();
  }
}

const RESERVED = new Set(['id', 'description', 'depends_on', 'retries', 'timeout', 'pool', 'priority']);

/** The kinds every orchestrator knows: `run` (isolated command or TypeScript module) and `noop`. */
export function defaultTaskKinds(): TaskKindRegistry {
  return new TaskKindRegistry()
    .register(runTaskKind)
    .register(noopTaskKind)
    .register(ingestTaskKind)
    .register(sqlTaskKind)
    .register(modelTaskKind)
    .register(publishTaskKind)
    .register(cdcTaskKind);
}
