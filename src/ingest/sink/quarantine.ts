/**
 * The quarantine table `<ns>.<table>__quarantine`: one row per rejected record with the
 * reason(s), the step that rejected it, the original record as JSON, and the raw object and
 * position it came from. Each append names its raw objects like the sink's commits, so a
 * batch replayed after a crash does not quarantine its records twice.
 */
import type { JdbcCatalog } from '../../catalog/index.js';
import { type Duck, type DuckConnection, sqlString } from '../../duck/index.js';
import type { ObjectStore } from '../../storage/index.js';
import type { Table, TableIdentifier } from '../../table/index.js';
import { LazyTable } from './lazy-table.js';

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
export class QuarantineSink extends LazyTable {
  constructor(catalog: JdbcCatalog, store: ObjectStore, duck: Duck, sinkId: TableIdentifier) {
    super(catalog, store, duck, { namespace: sinkId.namespace, name: `${sinkId.name}__quarantine` });
  }

  async #ensure(): Promise<Table> {
    return (
      (await this.table()) ??
      this.create({
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
    );
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
