/**
 * The sink: records cast to the table's schema and written in the configured mode, one
 * snapshot per batch, whose summary names the raw objects consumed. The table is created on
 * the first batch (inferred/declared schema, partitioning, sort order) and its schema follows
 * the drift policy.
 */
import type { JdbcCatalog } from '../../catalog/index.js';
import { type Duck, type DuckConnection, sqlString } from '../../duck/index.js';
import type { Logger } from '../../observe/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { type CommitResult, quoteIdent, type Table, type TableIdentifier } from '../../table/index.js';
import type { SinkSpec, TableSinkSpec } from '../spec.js';
import { type CastPlan, planCast } from './cast.js';
import { LazyTable } from './lazy-table.js';
import {
  newTableSchema,
  partitionFieldOf,
  planDrift,
  recordColumns,
  type SourceColumn,
  sortFieldsOf,
} from './schema.js';

/** Where a batch's records are and what to say about them. */
export interface SinkBatch {
  /** A relation (view or table) of records with lineage columns. */
  relation: string;
  /** Snapshot summary properties (task, raw objects, cursor). */
  properties: Record<string, string>;
  /** The batch's raw object ids in fetch order (for keeping the latest row per key). */
  objectOrder?: readonly string[];
  signal?: AbortSignal;
}

/** A batch cast and counted, ready to commit. */
export interface PreparedWrite {
  /** Good rows (table columns plus lineage columns). */
  good: string;
  /** Good rows; undefined when no row can fail the cast (counted by the commit instead, sparing a pass). */
  goodCount?: number;
  /** Rows that failed the cast (`__reason, __processor, __record, __raw_object, __raw_row`), or undefined. */
  rejected?: string;
  rejectedCount: number;
  /** Undefined when there is nothing to write to (no table and no columns). */
  table?: Table;
}

/** Splits a dotted `ns.table` into an identifier. */
export function tableIdOf(name: string): TableIdentifier {
  const parts = name.split('.');
  return { namespace: parts.slice(0, -1), name: parts.at(-1) as string };
}

let counter = 0;

/** The sink table of one ingest task. */
export class TableSink extends LazyTable {
  readonly #spec: TableSinkSpec;
  readonly #log: Logger;

  readonly #latestPerKey: boolean;

  /**
   * `latestPerKey`: an overwrite keeps only the last row of each `key` in fetch order (a keyed
   * table rebuilt from the raw zone: every stored version of a record is in the batch, and
   * the table must hold what the upserts would have left).
   */
  constructor(
    catalog: JdbcCatalog,
    store: ObjectStore,
    duck: Duck,
    spec: TableSinkSpec,
    log: Logger,
    o: { latestPerKey?: boolean } = {},
  ) {
    super(catalog, store, duck, tableIdOf(spec.table));
    this.#spec = spec;
    this.#log = log;
    this.#latestPerKey = Boolean(o.latestPerKey && spec.key?.length);
  }

  /** The write mode. */
  get mode(): SinkSpec['mode'] {
    return this.#spec.mode;
  }

  async #create(cols: SourceColumn[]): Promise<Table> {
    const schema = newTableSchema(cols, this.#spec);
    const spec = this.#spec.partition_by.map((p) => partitionFieldOf(p, schema));
    const sort = sortFieldsOf(this.#spec.sort_by, schema);
    const table = await this.create({
      schema: { ...schema, 'schema-id': 0 },
      partitionSpec: spec.length
        ? { 'spec-id': 0, fields: spec.map((f, i) => ({ ...f, 'field-id': 1000 + i })) }
        : undefined,
      sortOrder: sort.length ? { 'order-id': 1, fields: sort } : undefined,
      properties: { 'sluice.ingest.created-by': 'ingest' },
    });
    this.#log.info({ table: this.#spec.table }, 'sink table ready');
    return table;
  }

  /** Whether some record of `relation` could fail the cast to the table (or to a new table from its columns). */
  async canReject(conn: DuckConnection, relation: string, signal?: AbortSignal): Promise<boolean> {
    const cols = await recordColumns(conn, `SELECT * FROM ${relation}`, signal);
    if (cols.length === 0) return false;
    const table = await this.table();
    const schema = table?.schema() ?? { ...newTableSchema(cols, this.#spec), 'schema-id': 0 };
    const drift = planDrift(schema, cols, {
      ...this.#spec,
      schema_drift: this.#spec.schema_drift === 'fail' ? 'ignore' : this.#spec.schema_drift,
    });
    const kept = cols.filter(
      (c) => !drift.ignored.includes(c.name) && schema.fields.some((f) => f.name === c.name),
    );
    return planCast(schema, kept, this.#spec.key ?? []).reason !== undefined;
  }

  /**
   * Create or evolve the table for a batch and cast its rows; rows that fail the cast are
   * left in `rejected` for the quarantine. With no record columns at all (every payload
   * malformed) and no table yet, there is nothing to write to.
   */
  async prepare(conn: DuckConnection, batch: SinkBatch): Promise<PreparedWrite> {
    const cols = await recordColumns(conn, `SELECT * FROM ${batch.relation}`, batch.signal);
    let table = await this.table();
    if (!table) {
      if (cols.length === 0) return { good: batch.relation, goodCount: 0, rejectedCount: 0 };
      table = await this.#create(cols);
    }
    const drift = planDrift(table.schema(), cols, this.#spec);
    if (drift.changes.length > 0) {
      await table.evolveSchema(drift.changes);
      this.#log.info(
        { table: this.#spec.table, changes: drift.changes.map((c) => c.op) },
        'sink schema evolved',
      );
    }
    const kept = cols.filter((c) => !drift.ignored.includes(c.name));
    const plan = planCast(table.schema(), kept, this.#spec.key ?? []);
    const staged = await this.#stage(conn, batch, plan);
    if (!plan.reason) return { ...staged, table };
    const [{ n } = { n: 0n }] = await conn.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM ${staged.good}`,
      undefined,
      {
        signal: batch.signal,
      },
    );
    return { ...staged, goodCount: Number(n), table };
  }

  /** Commit the good rows of a prepared batch in the sink's mode as one snapshot. */
  async commit(
    conn: DuckConnection,
    prepared: PreparedWrite,
    batch: SinkBatch,
  ): Promise<CommitResult | undefined> {
    const table = prepared.table;
    if (!table) return undefined;
    const order = this.#spec.sort_by.length
      ? ` ORDER BY ${this.#spec.sort_by.map(quoteIdent).join(', ')}`
      : '';
    const names = table
      .schema()
      .fields.map((f) => quoteIdent(f.name))
      .join(', ');
    const rows =
      this.#latestPerKey && batch.objectOrder?.length
        ? latestPerKey(prepared.good, this.#spec.key ?? [], batch.objectOrder)
        : prepared.good;
    const goodSql = `SELECT ${names} FROM ${rows}${order}`;
    return this.#commit(table, conn, goodSql, prepared.good, batch);
  }

  async #stage(
    conn: DuckConnection,
    batch: SinkBatch,
    plan: CastPlan,
  ): Promise<{ good: string; rejected?: string; rejectedCount: number }> {
    const n = ++counter;
    const good = `__ingest_good_${n}`;
    const lineage = '__raw_object, __raw_row';
    if (!plan.reason) {
      await conn.run(
        `CREATE OR REPLACE VIEW ${good} AS SELECT ${plan.items.join(', ')}, ${lineage} FROM ${batch.relation}`,
        undefined,
        {
          signal: batch.signal,
        },
      );
      return { good, rejectedCount: 0 };
    }
    const all = `__ingest_cast_${n}`;
    await conn.run(
      `CREATE OR REPLACE TABLE ${all} AS SELECT ${plan.items.join(', ')}, ${lineage}, ${plan.reason} AS __reason, ${plan.record} AS __record FROM ${batch.relation}`,
      undefined,
      { signal: batch.signal },
    );
    await conn.run(
      `CREATE OR REPLACE VIEW ${good} AS SELECT * EXCLUDE (__reason, __record) FROM ${all} WHERE __reason IS NULL`,
    );
    const rejected = `__ingest_castbad_${n}`;
    await conn.run(
      `CREATE OR REPLACE VIEW ${rejected} AS SELECT __reason, 'sink' AS __processor, __record, ${lineage} FROM ${all} WHERE __reason IS NOT NULL`,
    );
    const [{ c } = { c: 0n }] = await conn.all<{ c: bigint }>(`SELECT count(*) AS c FROM ${rejected}`);
    return { good, rejected, rejectedCount: Number(c) };
  }

  async #commit(
    table: Table,
    conn: DuckConnection,
    goodSql: string,
    good: string,
    batch: SinkBatch,
  ): Promise<CommitResult> {
    const o = { properties: batch.properties, signal: batch.signal };
    const key = this.#spec.key ?? [];
    switch (this.#spec.mode) {
      case 'append':
        return table.append(goodSql, o);
      case 'overwrite':
        return table.overwrite(goodSql, o);
      case 'overwrite_partitions':
        return table.overwrite(goodSql, { ...o, partitions: 'dynamic' });
      case 'upsert':
        return table.upsert(goodSql, { ...o, key });
      case 'delete_insert': {
        const keys = `__ingest_keys_${++counter}`;
        const cols = key.map(quoteIdent).join(', ');
        await conn.run(`CREATE OR REPLACE TABLE ${keys} AS SELECT DISTINCT ${cols} FROM ${good}`, undefined, {
          signal: batch.signal,
        });
        const [{ n } = { n: 0n }] = await conn.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${keys}`);
        if (Number(n) === 0) return table.append(goodSql, o);
        const tuple = key.length === 1 ? cols : `row(${cols})`;
        return table.overwrite(goodSql, { ...o, where: `${tuple} IN (SELECT ${tuple} FROM ${keys})` });
      }
    }
  }
}

/**
 * The rows of `good` keeping, per key, the one fetched last: by the position of its raw
 * object in `objectOrder`, then its row in that object.
 */
function latestPerKey(good: string, key: readonly string[], objectOrder: readonly string[]): string {
  const positions = objectOrder.map((id, i) => `(${sqlString(id)}, ${i})`).join(', ');
  const cols = key.map((k) => `__g.${quoteIdent(k)}`).join(', ');
  return `(SELECT __g.* FROM ${good} AS __g JOIN (VALUES ${positions}) AS __fetch(id, pos) ON __fetch.id = __g.__raw_object
    QUALIFY row_number() OVER (PARTITION BY ${cols} ORDER BY __fetch.pos DESC, __g.__raw_row DESC) = 1) AS __latest`;
}
