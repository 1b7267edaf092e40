/**
 * The quarantine table `<ns>.<table>__quarantine`: one row per rejected record with the
 * reason(s), the step that rejected it, the original record as JSON, and the raw object and
 * position it came from. Each append names its raw objects like the sink's commits, so a
 * batch replayed after a crash does not quarantine its records twice.
 */
import type { JdbcCatalog } from '../../catalog/index.js';
import { type Duck, type DuckConnection, sqlString } from '../../duck/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { openTable, type Snapshot, type Table, type TableIdentifier } from '../../table/index.js';
import { NotFoundError } from '../../util/index.js';

/** Columns of the quarantine table. */
const QUARANTINE_FIELDS: [string, string][] = [
  ['__reason', 'string'],
  ['__processor', 'string'],
  ['__record', 'string'],
  ['__raw_object', 'string'],
  ['__raw_row', 'long'],
  ['__task', 'string'],
  ['__run_id', 'string'],
  ['__quarantined_at', 'timestamptz'],
];

/** The quarantine table of a sink table. */
export class QuarantineSink {
  readonly #catalog: JdbcCatalog;
  readonly #store: ObjectStore;
  readonly #duck: Duck;
  readonly id: TableIdentifier;
  #table: Table | undefined;

  constructor(catalog: JdbcCatalog, store: ObjectStore, duck: Duck, sinkId: TableIdentifier) {
    this.#catalog = catalog;
    this.#store = store;
    this.#duck = duck;
    this.id = { namespace: sinkId.namespace, name: `${sinkId.name}__quarantine` };
  }

  /** The table, or undefined while nothing was ever quarantined. */
  async table(): Promise<Table | undefined> {
    if (this.#table) return this.#table.refresh();
    try {
      this.#table = await openTable(this.#catalog, this.#store, this.#duck, this.id);
      return this.#table;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Snapshots of the quarantine table. */
  async snapshots(): Promise<Snapshot[]> {
    return (await this.table())?.snapshots() ?? [];
  }

  async #ensure(): Promise<Table> {
    const existing = await this.table();
    if (existing) return existing;
    if (!(await this.#catalog.namespaceExists(this.id.namespace))) {
      await this.#catalog.createNamespace(this.id.namespace).catch(async (err) => {
        if (!(await this.#catalog.namespaceExists(this.id.namespace))) throw err;
      });
    }
    await this.#catalog
      .createTable(this.id, {
        schema: {
          type: 'struct',
          'schema-id': 0,
          fields: QUARANTINE_FIELDS.map(([name, type], i) => ({
            id: i + 1,
            name,
            type: type as 'string',
            required: false,
          })),
        },
        properties: { 'sluice.ingest.quarantine': 'true' },
      })
      .catch(async (err) => {
        if (!(await this.#catalog.tableExists(this.id))) throw err;
      });
    this.#table = await openTable(this.#catalog, this.#store, this.#duck, this.id);
    return this.#table;
  }

  /**
   * Append the rows of `relations` (each: `__reason, __processor, __record, __raw_object,
   * __raw_row`) as one snapshot with the given summary properties; nothing when they are empty
   * and `always` is false.
   */
  async append(
    conn: DuckConnection,
    relations: string[],
    o: {
      task: string;
      runId: string;
      properties: Record<string, string>;
      always?: boolean;
      signal?: AbortSignal;
    },
  ): Promise<number> {
    const union = relations.length
      ? relations
          .map(
            (r) =>
              `SELECT CAST(__reason AS VARCHAR) AS __reason, CAST(__processor AS VARCHAR) AS __processor, CAST(__record AS VARCHAR) AS __record, CAST(__raw_object AS VARCHAR) AS __raw_object, CAST(__raw_row AS BIGINT) AS __raw_row FROM ${r}`,
          )
          .join(' UNION ALL ')
      : 'SELECT NULL::VARCHAR AS __reason, NULL::VARCHAR AS __processor, NULL::VARCHAR AS __record, NULL::VARCHAR AS __raw_object, NULL::BIGINT AS __raw_row WHERE false';
    const [{ n } = { n: 0n }] = await conn.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM (${union})`,
      undefined,
      { signal: o.signal },
    );
    if (Number(n) === 0 && !o.always) return 0;
    const table = await this.#ensure();
    await table.append(
      `SELECT *, ${sqlString(o.task)} AS __task, ${sqlString(o.runId)} AS __run_id, now() AS __quarantined_at FROM (${union}) AS __q`,
      { properties: o.properties, signal: o.signal },
    );
    return Number(n);
  }
}
