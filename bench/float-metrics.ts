// Cost of NaN counts and NaN-free bounds of float columns on the write path: the time of
// `collectMetrics` over freshly written files whose double columns hold no NaN (statistics
// only) and 0.1% NaN (one extra aggregate over those columns), against the time DuckDB takes
// to write the files. BENCH_ROWS (default 5,000,000) sets the rows per case.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDuck, sqlString } from '../src/duck/index.js';
import { collectMetrics } from '../src/table/index.js';
import type { StructType } from '../src/table/types.js';
import { machine, median, printTable, saveResult } from './util.js';

const rows = Number(process.env.BENCH_ROWS ?? 5_000_000);
const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'a', required: false, type: 'double' },
    { id: 3, name: 'b', required: false, type: 'double' },
    { id: 4, name: 's', required: false, type: 'string' },
  ],
};

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-float-'));
  const duck = await openDuck({ memoryLimit: '1GB' });
  const out: (string | number)[][] = [];
  const result: Record<string, { writeMs: number; metricsMs: number }> = {};
  try {
    for (const [label, nan] of [
      ['no NaN', 'false'],
      ['0.1% NaN in a, b', 'i % 1000 = 0'],
    ] as const) {
      const writes: number[] = [];
      const metrics: number[] = [];
      for (let run = 0; run < 3; run++) {
        const target = join(dir, `${label.replace(/\W+/g, '_')}_${run}`);
        let t = performance.now();
        await duck.withConnection((c) =>
          c.run(
            `COPY (SELECT i AS id, CASE WHEN ${nan} THEN 'NaN'::DOUBLE ELSE i * 0.5 END AS a,
               CASE WHEN ${nan} THEN 'NaN'::DOUBLE ELSE random() END AS b, 'x' || (i % 100) AS s FROM range(${rows}) t(i))
             TO ${sqlString(target)} (FORMAT parquet, FIELD_IDS {id: 1, a: 2, b: 3, s: 4}, FILE_SIZE_BYTES 134217728, COMPRESSION zstd)`,
          ),
        );
        writes.push(performance.now() - t);
        const files = (await readdir(target)).map((f) => join(target, f));
        t = performance.now();
        await duck.withConnection((c) => collectMetrics(c, files, SCHEMA));
        metrics.push(performance.now() - t);
        await rm(target, { recursive: true, force: true });
      }
      result[label] = { writeMs: median(writes), metricsMs: median(metrics) };
      out.push([
        label,
        Math.round(median(writes)),
        Math.round(median(metrics)),
        `${((median(metrics) / median(writes)) * 100).toFixed(1)}%`,
      ]);
    }
  } finally {
    await duck.close();
    await rm(dir, { recursive: true, force: true });
  }
  printTable(['case', 'write ms', 'metrics ms', 'metrics / write'], out);
  saveResult('float-metrics', { machine: machine(), rows, result });
}

await main();
