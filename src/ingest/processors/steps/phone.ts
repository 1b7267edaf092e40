/**
 * `phone`: normalise numbers to E.164 with awesome-phonenumber, called from SQL through a
 * DuckDB scalar UDF. The UDF runs once per distinct (number, country) pair, and the result
 * is joined back, so repeated numbers cost one parse.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { parsePhoneNumber } from 'awesome-phonenumber';
import { sqlString } from '../../../duck/index.js';
import { DuckDBScalarFunction, VARCHAR } from '../../../duck/node-api.js';
import type { ProcessorOptions } from '../schema.js';
import { createOutput, ident, insertRejected, refuseLineage, requireColumns, type StepRun } from '../step.js';

/** Name of the UDF: `(number VARCHAR, country VARCHAR) → VARCHAR`. */
export const PHONE_UDF = 'sluice_phone_e164';

/** E.164 of a valid number, else `!` and why (`!too-short`, `!invalid-country-code`...). */
export function phoneE164(text: string, country: string): string {
  const parsed = parsePhoneNumber(text, country ? { regionCode: country } : undefined);
  if (parsed.valid) return parsed.number.e164;
  return `!${parsed.possibility === 'is-possible' ? 'invalid' : parsed.possibility}`;
}

const registered = new WeakSet<DuckDBConnection>();

/** Register the phone UDF on a connection (once). */
export function registerPhoneUdf(conn: DuckDBConnection): void {
  if (registered.has(conn)) return;
  conn.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: PHONE_UDF,
      returnType: VARCHAR,
      parameterTypes: [VARCHAR, VARCHAR],
      mainFunction: (_info, input, output) => {
        const numbers = input.getColumnVector(0);
        const countries = input.getColumnVector(1);
        for (let row = 0; row < input.rowCount; row++) {
          const n = numbers.getItem(row);
          output.setItem(
            row,
            typeof n === 'string' ? phoneE164(n, String(countries.getItem(row) ?? '')) : null,
          );
        }
        output.flush();
      },
    }),
  );
  registered.add(conn);
}

/**
 * Numbers written with `+` need no country; others use `country_column` (when not NULL) or
 * `default_country`. NULL or blank numbers stay NULL. An invalid number is rejected with
 * the reason, kept as written, or set to NULL, per `on_invalid`.
 */
export async function phoneStep(run: StepRun, o: ProcessorOptions<'phone'>): Promise<undefined> {
  requireColumns(run, [o.column], 'column');
  if (o.country_column) requireColumns(run, [o.country_column], 'country_column');
  const out = o.output ?? o.column;
  refuseLineage(run, [out], 'output');
  registerPhoneUdf(run.conn.raw);
  const text = `nullif(trim(CAST(${ident(o.column)} AS VARCHAR)), '')`;
  const fallback = o.default_country ? `'${o.default_country.toUpperCase()}'` : `''`;
  const country = o.country_column
    ? `coalesce(nullif(upper(trim(CAST(${ident(o.country_column)} AS VARCHAR))), ''), ${fallback})`
    : fallback;

  const pairs = run.scratch('phones');
  await run.conn.run(
    `CREATE TEMP TABLE ${pairs} AS
     SELECT n, c, ${PHONE_UDF}(n, c) AS r FROM (SELECT DISTINCT ${text} AS n, ${country} AS c FROM ${run.input}) WHERE n IS NOT NULL`,
    undefined,
    { signal: run.ctx.signal },
  );
  // The join is evaluated once for the good records and once for the rejected ones
  // rather than written out: it is cheap against the small table of distinct numbers.
  const joined = `(SELECT i.* EXCLUDE (__sluice_n, __sluice_c), p.r AS __sluice_phone
     FROM (SELECT *, ${text} AS __sluice_n, ${country} AS __sluice_c FROM ${run.input}) i
     LEFT JOIN ${pairs} p ON p.n = i.__sluice_n AND p.c = i.__sluice_c)`;
  const invalid = `starts_with(__sluice_phone, '!')`;
  const original = ident(o.column);
  const value =
    o.on_invalid === 'keep'
      ? `CASE WHEN ${invalid} THEN CAST(${original} AS VARCHAR) ELSE __sluice_phone END`
      : `CASE WHEN ${invalid} THEN NULL ELSE __sluice_phone END`;
  const exists = run.columns.some((c) => c.name === out);
  const select = exists
    ? `* EXCLUDE (__sluice_phone) REPLACE (${value} AS ${ident(out)})`
    : `* EXCLUDE (__sluice_phone), ${value} AS ${ident(out)}`;
  const where = o.on_invalid === 'reject' ? `WHERE __sluice_phone IS NULL OR NOT ${invalid}` : '';
  await createOutput(run, `SELECT ${select} FROM ${joined} ${where}`);
  if (o.on_invalid === 'reject') {
    const place = o.country_column
      ? `CASE WHEN ${country} = '' THEN ' (no country)' ELSE ' for ' || ${country} END`
      : o.default_country
        ? `' for ${o.default_country.toUpperCase()}'`
        : `' (no country)'`;
    await insertRejected(
      run,
      joined,
      `${sqlString(`${o.column}: "`)} || left(CAST(${original} AS VARCHAR), 40) || '" is not a valid phone number' || ${place} || ' (' || substr(__sluice_phone, 2) || ')'`,
      invalid,
    );
  }
  return undefined;
}
