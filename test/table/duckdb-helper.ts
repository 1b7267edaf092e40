import {
  BIGINT,
  BLOB,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBScalarFunction,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api';
import { BUCKET_UDFS } from '../../src/table/transforms-sql.js';

const TYPES = { BIGINT, BLOB, INTEGER, VARCHAR } as const;

/** A DuckDB value as a plain JS value (blobs as Buffers, decimals as unscaled bigints). */
export function plain(v: unknown): unknown {
  if (v && typeof v === 'object') {
    if ('bytes' in v) return Buffer.from((v as { bytes: Uint8Array }).bytes);
    if ('scale' in v && 'value' in v) return (v as { value: bigint }).value;
    if ('days' in v) return (v as { days: number }).days;
    if ('micros' in v) return (v as { micros: bigint }).micros;
  }
  return v;
}

/** An in-memory DuckDB connection with the bucket UDFs registered, in a non-UTC time zone. */
export async function openDuckdb(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run("SET TimeZone = 'America/Los_Angeles'");
  for (const udf of BUCKET_UDFS) {
    conn.registerScalarFunction(
      DuckDBScalarFunction.create({
        name: udf.name,
        returnType: INTEGER,
        parameterTypes: udf.parameterTypes.map((t) => TYPES[t as keyof typeof TYPES]),
        mainFunction: (_info, input, output) => {
          const vectors = udf.parameterTypes.map((_t, i) => input.getColumnVector(i));
          for (let row = 0; row < input.rowCount; row++) {
            output.setItem(row, udf.compute(...vectors.map((v) => plain(v.getItem(row)))));
          }
          output.flush();
        },
      }),
    );
  }
  return conn;
}
