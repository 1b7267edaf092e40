// Processors over a large batch, side by side in one run on the same data: the chain
// validate + phone + dedupe against the same batch passing through with no steps, each of
// the three steps alone, and the phone UDF against a plain JS loop over the same numbers.
// BENCH_ROWS (default 10,000,000) sets the batch size; BENCH_PHONE_DISTINCT (default 200,000)
// the number of distinct phone numbers in it (customers repeat across orders).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDuck } from '../src/duck/index.js';
import {
  PHONE_UDF,
  type ProcessorSpec,
  phoneE164,
  processors,
  registerPhoneUdf,
} from '../src/ingest/processors/index.js';
import { silentLogger } from '../src/observe/index.js';
import { printTable, saveResult } from './util.js';

const rows = Number(process.env.BENCH_ROWS ?? 10_000_000);
const distinctPhones = Number(process.env.BENCH_PHONE_DISTINCT ?? 200_000);
const memoryLimit = process.env.BENCH_DUCKDB_MEMORY ?? '4GB';

// Six countries, national formats; one number in a hundred is too short. Keys repeat (1 in 10
// order ids is an update of an earlier one) and 1 in 200 statuses is not an allowed value.
const generate = `SELECT
  (i % ${Math.floor(rows * 0.9)})::VARCHAR AS order_id,
  CASE WHEN i % 200 = 7 THEN 'lost' ELSE ['new', 'paid', 'shipped'][1 + i % 3] END AS status,
  'user' || (i % 100000) || '@example.com' AS email,
  ((i * 7919) % 100000 / 100.0)::VARCHAR AS amount,
  CASE WHEN p % 100 = 3 THEN '123' ELSE CASE p % 6
    WHEN 0 THEN '06 ' || lpad((p % 100000000)::VARCHAR, 8, '0')
    WHEN 1 THEN '0151 ' || lpad((p % 100000000)::VARCHAR, 8, '0')
    WHEN 2 THEN '07400 ' || lpad((p % 1000000)::VARCHAR, 6, '0')
    WHEN 3 THEN '212-456-' || lpad((p % 10000)::VARCHAR, 4, '0')
    WHEN 4 THEN '347 ' || lpad((p % 10000000)::VARCHAR, 7, '0')
    ELSE '612 ' || lpad((p % 1000000)::VARCHAR, 6, '0') END END AS phone,
  ['FR', 'DE', 'GB', 'US', 'IT', 'ES'][1 + p % 6] AS country,
  TIMESTAMP '2024-01-01' + to_seconds(i) AS updated_at,
  'raw/orders/' || (i // 100000) || '.json' AS __raw_object,
  (i % 100000)::BIGINT AS __raw_row
FROM (SELECT i, (i * 48271) % ${distinctPhones} AS p FROM range(${rows}) t(i))`;

const validate = {
  validate: {
    schema: {
      order_id: { type: 'bigint', required: true },
      status: { enum: ['new', 'paid', 'shipped'] },
      email: { regex: '^[^@]+@[^@]+$' },
      amount: { type: 'decimal(12,2)', min: 0 },
    },
  },
};
const phone = { phone: { column: 'phone', country_column: 'country' } };
const dedupe = { dedupe: { key: ['order_id'], order_by: 'updated_at' } };

const chains: [string, unknown[]][] = [
  ['no steps (copy)', []],
  ['validate', [validate]],
  ['phone', [phone]],
  ['dedupe', [dedupe]],
  ['validate + phone + dedupe', [validate, phone, dedupe]],
];

const tempDir = await mkdtemp(join(tmpdir(), 'sluice-bench-processors-'));
const duck = await openDuck({ threads: 2, memoryLimit, tempDir, maxConnections: 1 });
try {
  const results = await duck.withConnection(async (conn) => {
    let started = performance.now();
    await conn.run(`CREATE TEMP TABLE orders AS ${generate}`);
    console.log(`generated ${rows.toLocaleString()} rows in ${Math.round(performance.now() - started)} ms`);
    const out: { chain: string; ms: number; rowsPerS: number; output: number; rejected: number }[] = [];
    for (const [name, steps] of chains) {
      started = performance.now();
      const r = await processors.apply(
        { conn, log: silentLogger, projectDir: '.' },
        'orders',
        steps as ProcessorSpec[],
      );
      const ms = performance.now() - started;
      await conn.run(`DROP TABLE "${r.output}"; DROP TABLE "${r.rejected}"`);
      out.push({
        chain: name,
        ms,
        rowsPerS: rows / (ms / 1000),
        output: r.counts.output,
        rejected: r.counts.rejected,
      });
    }

    // The phone UDF alone over the distinct pairs, against the same parses in a JS loop.
    registerPhoneUdf(conn.raw);
    await conn.run('CREATE TEMP TABLE pairs AS SELECT DISTINCT phone, country FROM orders');
    const pairs = await conn.all<{ phone: string; country: string }>('SELECT phone, country FROM pairs');
    started = performance.now();
    await conn.run(`CREATE TEMP TABLE parsed AS SELECT ${PHONE_UDF}(phone, country) AS e FROM pairs`);
    const udfMs = performance.now() - started;
    started = performance.now();
    let valid = 0;
    for (const p of pairs) if (!phoneE164(p.phone, p.country).startsWith('!')) valid++;
    const jsMs = performance.now() - started;
    return { chains: out, phone: { pairs: pairs.length, valid, udfMs, jsMs } };
  });

  const base = results.chains[0]!;
  printTable(
    ['chain', 'rows', 'ms', 'rows/s', 'vs no steps', 'output', 'rejected'],
    results.chains.map((c) => [
      c.chain,
      rows.toLocaleString(),
      Math.round(c.ms),
      Math.round(c.rowsPerS).toLocaleString(),
      `${(c.ms / base.ms).toFixed(1)}×`,
      c.output.toLocaleString(),
      c.rejected.toLocaleString(),
    ]),
  );
  const p = results.phone;
  console.log('');
  printTable(
    ['phone parses', 'count', 'ms', 'numbers/s'],
    [
      [
        'DuckDB UDF',
        p.pairs.toLocaleString(),
        Math.round(p.udfMs),
        Math.round(p.pairs / (p.udfMs / 1000)).toLocaleString(),
      ],
      [
        'plain JS loop',
        p.pairs.toLocaleString(),
        Math.round(p.jsMs),
        Math.round(p.pairs / (p.jsMs / 1000)).toLocaleString(),
      ],
    ],
  );
  console.log(`saved ${saveResult('processors', { rows, distinctPhones, memoryLimit, ...results })}`);
} finally {
  await duck.close();
  await rm(tempDir, { recursive: true, force: true });
}
