/** Shared setup of the processor tests: a DuckDB pool and a way to run a chain over literal rows. */
import { after, before } from 'node:test';
import { type Duck, type DuckConnection, openDuck } from '../../src/duck/index.js';
import { type ProcessorSpec, processors } from '../../src/ingest/processors/index.js';
import { silentLogger } from '../../src/observe/index.js';

/** A small DuckDB opened before the tests of the enclosing suite and closed after them. */
export function useDuck(): () => Duck {
  let duck: Duck | undefined;
  before(async () => {
    duck = await openDuck({ threads: 1, memoryLimit: '512MB', maxConnections: 2 });
  });
  after(() => duck?.close());
  return () => {
    if (!duck) throw new Error('the DuckDB of the suite is not open yet');
    return duck;
  };
}

/** Result of a chain: good rows ordered by lineage, rejected rows likewise. */
export interface ChainResult {
  rows: Record<string, unknown>[];
  rejected: {
    __reason: string;
    __processor: string;
    __record: string;
    __raw_object: string;
    __raw_row: bigint;
  }[];
  columns: string[];
}

/**
 * Run steps over `select` (a query giving the record columns); each row gets lineage
 * `raw/batch-1.json` and its 0-based position.
 */
export async function runChain(
  duck: Duck,
  select: string,
  steps: unknown[],
  projectDir = process.cwd(),
): Promise<ChainResult> {
  return duck.withConnection(async (conn: DuckConnection) => {
    await conn.run('DROP TABLE IF EXISTS src');
    await conn.run(
      `CREATE TEMP TABLE src AS SELECT *, 'raw/batch-1.json' AS __raw_object,
       (row_number() OVER () - 1)::BIGINT AS __raw_row FROM (${select})`,
    );
    const out = await processors.apply(
      { conn, log: silentLogger, projectDir },
      'src',
      steps as ProcessorSpec[],
    );
    const rows = await conn.all(`SELECT * FROM "${out.output}" ORDER BY __raw_object, __raw_row`);
    const cols = await conn.all<{ column_name: string }>(`DESCRIBE "${out.output}"`);
    const rejected = (await conn.all(
      `SELECT * FROM "${out.rejected}" ORDER BY __raw_row, __processor`,
    )) as ChainResult['rejected'];
    await conn.run(`DROP TABLE "${out.output}"; DROP TABLE "${out.rejected}"; DROP TABLE src`);
    if (out.counts.output !== rows.length || out.counts.rejected !== rejected.length)
      throw new Error('counts disagree with the tables');
    return { rows, rejected, columns: cols.map((c) => c.column_name) };
  });
}
