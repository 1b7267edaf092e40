import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { BUCKET_UDFS } from '../table/transforms-sql.js';
import { BIGINT, BLOB, DuckDBScalarFunction, INTEGER, VARCHAR } from './node-api.js';

const TYPES: Record<string, DuckDBType> = { BIGINT, BLOB, INTEGER, VARCHAR };

/** A value of a UDF argument as the BUCKET_UDFS contract expects it (blobs as bytes). */
function argValue(v: unknown): unknown {
  if (v && typeof v === 'object' && 'bytes' in v) return (v as { bytes: Uint8Array }).bytes;
  return v;
}

/**
 * Register the Iceberg bucket UDFs (transforms-sql.ts) on a connection. DuckDB hands a
 * vector of up to 2048 rows per call; the hash is computed per value (Murmur3 has no SQL form).
 */
export function registerBucketUdfs(conn: DuckDBConnection): void {
  for (const udf of BUCKET_UDFS) {
    conn.registerScalarFunction(
      DuckDBScalarFunction.create({
        name: udf.name,
        returnType: INTEGER,
        parameterTypes: udf.parameterTypes.map((t) => TYPES[t] as DuckDBType),
        mainFunction: (_info, input, output) => {
          const vectors = udf.parameterTypes.map((_t, i) => input.getColumnVector(i));
          const args: unknown[] = new Array(vectors.length);
          for (let row = 0; row < input.rowCount; row++) {
            for (let i = 0; i < vectors.length; i++) args[i] = argValue(vectors[i]?.getItem(row));
            output.setItem(row, udf.compute(...args));
          }
          output.flush();
        },
      }),
    );
  }
}
