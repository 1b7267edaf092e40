/**
 * The event type registry: definitions and every schema version in the metastore, one log
 * topic per event type. Definitions are read from the metastore on each use (a primary-key
 * lookup) so several server processes agree, except on the publish and stream paths
 * (`cached`): there a definition is kept in memory until it changes, announced on a metastore
 * notification channel to every process. Compiled validators are cached per version.
 */
import type { ValidateFunction } from 'ajv';
import type { MetaStore } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { ConflictError, NotFoundError } from '../util/index.js';
import {
  checkEventTypeBody,
  checkEventTypeUpdate,
  type EventTypeInput,
  type EventTypeLimits,
  partitionCount,
} from './event-type-input.js';
import { compileEventSchema, parseSchemaText } from './json-schema.js';
import type { EventLog, TopicConfig } from './log/types.js';
import { UnprocessableError } from './problem.js';
import { evolveVersion } from './schema-evolution.js';
import type { EventType, EventTypeSchema } from './types.js';

const FIRST_VERSION = '1.0.0';
/** Notification channel on which a change of an event type is announced (payload: its name). */
export const EVENT_TYPE_CHANGES = 'sluice.bus.event_types';

/** Registry options: the metastore, the log and the limits of the bus configuration. */
export interface RegistryOptions {
  meta: MetaStore;
  eventLog: EventLog;
  limits: EventTypeLimits;
  log: Logger;
  /** Stops listening for changes (the cache of `cached` is off from then on). */
  closing?: AbortSignal;
}

/** Event types: create, read, update (by Nakadi's rules), delete; schema versions. */
export class EventTypeRegistry {
  readonly #o: RegistryOptions;
  readonly #validators = new Map<string, ValidateFunction>();
  /** Definitions read by `cached`, dropped when a change is announced. */
  readonly #cache = new Map<string, EventType>();
  /** Bumped by every change: a read that overlapped a change is not cached. */
  #generation = 0;
  /** Resolves true once changes are listened for (false: caching is off). */
  #listening: Promise<boolean> | undefined;

  constructor(o: RegistryOptions) {
    this.#o = o;
  }

  /**
   * Like `get`, but served from memory while the definition is unchanged: a change made by
   * this process applies at once, one made by another server process as soon as its
   * notification arrives (PostgreSQL: at once; SQLite: within the 100 ms poll).
   * @throws NotFoundError for an unknown event type.
   */
  async cached(name: string): Promise<EventType> {
    if (!(await this.#listen())) return this.get(name);
    const hit = this.#cache.get(name);
    if (hit) return hit;
    const generation = this.#generation;
    const et = await this.get(name);
    if (generation === this.#generation) {
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(name, et);
    }
    return et;
  }

  #listen(): Promise<boolean> {
    this.#listening ??= (async () => {
      const closing = this.#o.closing;
      if (closing?.aborted) return false;
      try {
        const stop = await this.#o.meta.listen(EVENT_TYPE_CHANGES, (name) => this.#forget(name));
        closing?.addEventListener(
          'abort',
          () => {
            this.#forget(undefined);
            this.#listening = Promise.resolve(false);
            void stop().catch(() => undefined);
          },
          { once: true },
        );
        return true;
      } catch (err) {
        this.#o.log.warn({ err }, 'cannot listen for event type changes: definitions are read on each use');
        return false;
      }
    })();
    return this.#listening;
  }

  /** Drop a cached definition (all of them when `name` is undefined). */
  #forget(name: string | undefined): void {
    this.#generation++;
    if (name === undefined) this.#cache.clear();
    else this.#cache.delete(name);
  }

  /** Tell every process (this one at once) that an event type changed. */
  async #changed(name: string): Promise<void> {
    this.#forget(name);
    await this.#o.meta
      .notify(EVENT_TYPE_CHANGES, name)
      .catch((err) => this.#o.log.warn({ err, eventType: name }, 'could not announce an event type change'));
  }

  /** Event types, filtered by owning application or by a subject listed among the writers. */
  async list(filter: { owningApplication?: string; writer?: string } = {}): Promise<EventType[]> {
    const rows = await this.#o.meta.query<{ definition: string }>(
      'SELECT definition FROM bus_event_types ORDER BY name',
    );
    let all = rows.map((r) => JSON.parse(r.definition) as EventType);
    if (filter.owningApplication)
      all = all.filter((et) => et.owning_application === filter.owningApplication);
    if (filter.writer) {
      const [type, value] = splitSubject(filter.writer);
      all = all.filter((et) =>
        et.authorization?.writers.some((w) => w.data_type === type && w.value === value),
      );
    }
    return all;
  }

  /** One event type, or undefined. */
  async find(name: string): Promise<EventType | undefined> {
    const rows = await this.#o.meta.query<{ definition: string }>(
      'SELECT definition FROM bus_event_types WHERE name = ?',
      [name],
    );
    return rows[0] ? (JSON.parse(rows[0].definition) as EventType) : undefined;
  }

  /** @throws NotFoundError for an unknown event type. */
  async get(name: string): Promise<EventType> {
    const et = await this.find(name);
    if (!et) throw new NotFoundError(`EventType "${name}" does not exist.`);
    return et;
  }

  /**
   * Create an event type and its log topic.
   * @throws UnprocessableError for an invalid body; ConflictError when the name is taken.
   */
  async create(body: unknown): Promise<EventType> {
    const input = checkEventTypeBody(body, this.#o.limits);
    const now = new Date();
    const et: EventType = {
      ...input,
      schema: { ...input.schema, version: FIRST_VERSION, created_at: now.toISOString() },
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    const inserted = await this.#o.meta.transaction(async (tx) => {
      const r = await tx.execute(
        'INSERT INTO bus_event_types (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
        [et.name, JSON.stringify(et), now.getTime(), now.getTime()],
      );
      if (r.rowCount === 0) return false;
      await this.#insertSchema(tx, et.name, et.schema, 1);
      return true;
    });
    if (inserted) await this.#changed(et.name);
    if (!inserted)
      throw new ConflictError(
        `EventType with name ${et.name} already exists (or wasn't completely removed yet)`,
      );
    try {
      if (await this.#o.eventLog.topicExists(et.name))
        await this.#o.eventLog.updateTopic(et.name, topicConfig(et, this.#o.limits));
      else await this.#o.eventLog.createTopic(et.name, topicConfig(et, this.#o.limits));
    } catch (err) {
      await this.#removeRows(et.name);
      throw err;
    }
    this.#o.log.info(
      { eventType: et.name, partitions: partitionCount(et.default_statistic, this.#o.limits) },
      'event type created',
    );
    return et;
  }

  /**
   * Update an event type; a changed schema becomes a new version if the compatibility mode allows it.
   * @throws NotFoundError, UnprocessableError
   */
  async update(name: string, body: unknown): Promise<EventType> {
    const before = await this.get(name);
    const input = checkEventTypeBody(body, this.#o.limits);
    if (input.name !== name)
      throw new UnprocessableError(`name in body ("${input.name}") must match the path ("${name}")`);
    checkEventTypeUpdate(before, input);
    const merged = { ...input, default_statistic: input.default_statistic ?? before.default_statistic };
    return this.#save(before, merged);
  }

  /** Add a schema version (POST /event-types/{name}/schemas); same rules as an update. */
  async addSchema(name: string, schema: unknown): Promise<EventType> {
    const before = await this.get(name);
    const { created_at: _c, updated_at: _u, schema: _s, ...rest } = before;
    const input = checkEventTypeBody({ ...rest, schema }, this.#o.limits);
    return this.#save(before, input);
  }

  /** The stored schema equal to `schema`, for `POST .../schemas?fetch=true`. @throws NotFoundError */
  async findSchema(name: string, schema: unknown): Promise<EventTypeSchema> {
    await this.get(name);
    const text = (schema as { schema?: unknown } | undefined)?.schema;
    const wanted = JSON.stringify(parseSchemaText(text));
    for (const s of await this.schemas(name, 1000, 0)) {
      if (JSON.stringify(JSON.parse(s.schema)) === wanted) return s;
    }
    throw new NotFoundError(`no schema of ${name} matches the given one`);
  }

  async #save(before: EventType, input: EventTypeInput): Promise<EventType> {
    const now = new Date();
    const version = evolveVersion(
      input.compatibility_mode,
      before.schema.version,
      parseSchemaText(before.schema.schema),
      parseSchemaText(input.schema.schema),
    );
    const changed = version !== before.schema.version;
    const et: EventType = {
      ...input,
      schema: changed ? { ...input.schema, version, created_at: now.toISOString() } : before.schema,
      created_at: before.created_at,
      updated_at: now.toISOString(),
    };
    await this.#o.meta.transaction(async (tx) => {
      await tx.execute('UPDATE bus_event_types SET definition = ?, updated_at = ? WHERE name = ?', [
        JSON.stringify(et),
        now.getTime(),
        et.name,
      ]);
      if (changed) {
        const rows = await tx.query<{ n: number | null }>(
          'SELECT MAX(seq) AS n FROM bus_schemas WHERE event_type = ?',
          [et.name],
        );
        await this.#insertSchema(tx, et.name, et.schema, Number(rows[0]?.n ?? 0) + 1);
      }
    });
    await this.#changed(et.name);
    await this.#o.eventLog.updateTopic(et.name, topicConfig(et, this.#o.limits));
    return et;
  }

  /** Raise the partition count (never lowered). @throws UnprocessableError */
  async setPartitionCount(name: string, count: unknown): Promise<void> {
    const et = await this.get(name);
    const current = partitionCount(et.default_statistic, this.#o.limits);
    if (
      typeof count !== 'number' ||
      !Number.isInteger(count) ||
      count < current ||
      count > this.#o.limits.maxPartitions
    ) {
      throw new UnprocessableError(
        `partition_count must be an integer from ${current} (current) to ${this.#o.limits.maxPartitions}`,
      );
    }
    const stat = {
      messages_per_minute: 1,
      message_size: 1,
      read_parallelism: count,
      write_parallelism: count,
    };
    const updated = { ...et, default_statistic: stat, updated_at: new Date().toISOString() };
    await this.#o.meta.execute('UPDATE bus_event_types SET definition = ?, updated_at = ? WHERE name = ?', [
      JSON.stringify(updated),
      Date.now(),
      name,
    ]);
    await this.#changed(name);
    await this.#o.eventLog.updateTopic(name, topicConfig(updated, this.#o.limits));
  }

  /**
   * Delete an event type, its schemas and its events.
   * @throws NotFoundError; UnprocessableError while subscriptions read it.
   */
  async delete(name: string): Promise<void> {
    await this.get(name);
    const subs = await this.#o.meta.query<{ id: string; definition: string }>(
      'SELECT id, definition FROM bus_subscriptions',
    );
    const using = subs.filter((s) =>
      (JSON.parse(s.definition) as { event_types: string[] }).event_types.includes(name),
    );
    if (using.length) {
      throw new UnprocessableError(
        `Can't remove event type ${name}, as it has subscriptions: ${using.map((s) => s.id).join(', ')}`,
      );
    }
    await this.#removeRows(name);
    if (await this.#o.eventLog.topicExists(name)) await this.#o.eventLog.deleteTopic(name);
    this.#o.log.info({ eventType: name }, 'event type deleted');
  }

  /** Schema versions, newest first. */
  async schemas(name: string, limit: number, offset: number): Promise<EventTypeSchema[]> {
    return this.#selectSchemas('event_type = ? ORDER BY seq DESC LIMIT ? OFFSET ?', [name, limit, offset]);
  }

  /** One schema version (`latest` for the newest). @throws NotFoundError */
  async schema(name: string, version: string): Promise<EventTypeSchema> {
    const et = await this.get(name);
    if (version === 'latest') return et.schema;
    const rows = await this.#selectSchemas('event_type = ? AND version = ?', [name, version]);
    if (!rows[0]) throw new NotFoundError(`EventType "${name}" has no schema version ${version}`);
    return rows[0];
  }

  /** The compiled validator of an event type's current schema. */
  validator(et: EventType): ValidateFunction {
    const key = `${et.name}\u0000${et.schema.version}\u0000${et.compatibility_mode}\u0000${et.updated_at}`;
    let v = this.#validators.get(key);
    if (!v) {
      v = compileEventSchema(et.category, et.compatibility_mode, parseSchemaText(et.schema.schema));
      if (this.#validators.size > 1000) this.#validators.clear();
      this.#validators.set(key, v);
    }
    return v;
  }

  /** Partitions of an event type. */
  partitions(et: EventType): number {
    return partitionCount(et.default_statistic, this.#o.limits);
  }

  async #selectSchemas(where: string, params: (string | number)[]): Promise<EventTypeSchema[]> {
    const rows = await this.#o.meta.query<SchemaRow>(
      `SELECT version, schema_type, schema_text, created_at FROM bus_schemas WHERE ${where}`,
      params,
    );
    return rows.map(schemaOfRow);
  }

  async #insertSchema(
    tx: Pick<MetaStore, 'execute'>,
    name: string,
    s: EventTypeSchema,
    seq: number,
  ): Promise<void> {
    await tx.execute(
      'INSERT INTO bus_schemas (event_type, version, seq, schema_type, schema_text, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [name, s.version, seq, s.type, s.schema, Date.parse(s.created_at)],
    );
  }

  async #removeRows(name: string): Promise<void> {
    await this.#o.meta.transaction(async (tx) => {
      await tx.execute('DELETE FROM bus_schemas WHERE event_type = ?', [name]);
      await tx.execute('DELETE FROM bus_event_types WHERE name = ?', [name]);
    });
    await this.#changed(name);
  }
}

type SchemaRow = {
  version: string;
  schema_type: string;
  schema_text: string;
  created_at: number;
};

function schemaOfRow(r: SchemaRow): EventTypeSchema {
  return {
    type: r.schema_type as 'json_schema',
    schema: r.schema_text,
    version: r.version,
    created_at: new Date(Number(r.created_at)).toISOString(),
  };
}

/** The log topic settings of an event type. */
export function topicConfig(et: EventType, limits: EventTypeLimits): TopicConfig {
  return {
    partitions: partitionCount(et.default_statistic, limits),
    retentionMs: et.options.retention_time,
    cleanupPolicy: et.cleanup_policy === 'delete' ? 'delete' : 'compact',
  };
}

/** `service:order-api` → [service, order-api]; a bare name is a service. */
export function splitSubject(subject: string): [string, string] {
  const i = subject.indexOf(':');
  return i > 0 ? [subject.slice(0, i), subject.slice(i + 1)] : ['service', subject];
}
