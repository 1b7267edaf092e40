import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { openDuck } from '../../src/duck/index.js';
import { listRawObjects } from '../../src/ingest/index.js';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows } from './helpers.js';

const ROWS = [
  { id: 1, name: 'anna', amount: 1.5, day: '2024-01-01' },
  { id: 2, name: 'bo, "the" second', amount: 2.25, day: '2024-01-02' },
  { id: 3, name: 'cé', amount: -3, day: '2024-01-03' },
];

const csv = (sep: string) =>
  `id${sep}name${sep}amount${sep}day\n${ROWS.map((r) => [r.id, sep === ',' ? `"${r.name.replace(/"/g, '""')}"` : r.name, r.amount, r.day].join(sep)).join('\n')}\n`;
const ndjson = () => `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`;
const xml = () =>
  `<?xml version="1.0"?><export><rows>${ROWS.map((r) => `<row><id>${r.id}</id><name>${r.name.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}</name><amount>${r.amount}</amount><day>${r.day}</day></row>`).join('')}</rows></export>`;

async function xlsx(path: string): Promise<void> {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('ignored').addRow(['x']);
  const ws = wb.addWorksheet('data');
  ws.addRow(['id', 'name', 'amount', 'day']);
  for (const r of ROWS) ws.addRow([r.id, r.name, r.amount, r.day]);
  await wb.xlsx.writeFile(path);
}

describe('files source', () => {
  let env: IngestEnv;
  let landing: string;
  before(async () => {
    env = await openIngestEnv();
    landing = join(env.dir, 'landing');
    await mkdir(landing);
  });
  after(async () => {
    await env.close();
  });

  async function writeFormat(dir: string, format: string, compression: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const gz = (b: string | Buffer) => (compression === 'gz' ? gzipSync(b) : b);
    const ext = compression === 'gz' ? '.gz' : compression === 'zst' ? '.zst' : '';
    const text: Record<string, () => string> = {
      csv: () => csv(','),
      tsv: () => csv('\t'),
      ndjson,
      json: () => JSON.stringify(ROWS),
      xml,
    };
    if (compression === 'zst' || format === 'parquet') {
      const duck = await openDuck({ threads: 1 });
      try {
        const src = join(dir, 'src.ndjson');
        await writeFile(src, ndjson());
        const target = join(dir, `part.${format}${ext}`);
        const opts =
          format === 'parquet'
            ? 'FORMAT parquet'
            : format === 'ndjson'
              ? 'FORMAT json, COMPRESSION zstd'
              : 'FORMAT csv, HEADER, COMPRESSION zstd';
        await duck.run(`COPY (SELECT * FROM read_json('${src}')) TO '${target}' (${opts})`);
        await import('node:fs/promises').then((fs) => fs.rm(src));
      } finally {
        await duck.close();
      }
      return;
    }
    if (format === 'xlsx') return xlsx(join(dir, 'part.xlsx'));
    await writeFile(join(dir, `part.${format}${ext}`), gz((text[format] as () => string)()));
  }

  const cases: [string, string, Record<string, unknown>][] = [
    ['csv', '', {}],
    ['csv', 'gz', {}],
    ['csv', 'zst', {}],
    ['tsv', '', {}],
    ['tsv', 'gz', {}],
    ['ndjson', '', {}],
    ['ndjson', 'gz', {}],
    ['ndjson', 'zst', {}],
    ['json', '', {}],
    ['json', 'gz', {}],
    ['xml', '', { records: 'export.rows.row' }],
    ['xml', 'gz', { records: 'export.rows.row' }],
    ['xlsx', '', { sheet: 'data' }],
    ['parquet', '', {}],
  ];
  for (const [format, compression, extra] of cases) {
    test(`${format}${compression ? `.${compression}` : ''}`, async () => {
      const name = `${format}_${compression || 'plain'}`;
      const dir = join(landing, name);
      await writeFormat(dir, format, compression);
      const summary = await runSpec(
        env,
        { source: { files: { path: `landing/${name}`, ...extra } }, sink: { table: `files.${name}` } },
        { taskId: name },
      );
      assert.equal(summary.written, 3);
      const rows = plainRows(await tableRows(env.runtime, `files.${name}`, 'id'));
      assert.deepEqual(
        rows.map((r) => [Number(r.id), r.name, Number(r.amount), String(r.day).slice(0, 10)]),
        ROWS.map((r) => [r.id, r.name, r.amount, r.day]),
      );
    });
  }

  test('the same file dropped twice (by checksum) and a re-run load it once; a changed file loads', async () => {
    const dir = join(landing, 'dedupe');
    await mkdir(dir);
    await writeFile(join(dir, 'a.csv'), csv(','));
    const spec = {
      source: { files: { path: 'landing/dedupe', glob: '*.csv' } },
      sink: { table: 'files.dedupe' },
    };
    assert.equal((await runSpec(env, spec, { taskId: 'dedupe' })).written, 3);
    await copyFile(join(dir, 'a.csv'), join(dir, 'a-copy.csv'));
    await writeFile(join(dir, 'notes.txt.bak'), 'ignored by the glob');
    const again = await runSpec(env, spec, { taskId: 'dedupe' });
    assert.equal(again.written, 0);
    assert.equal(again.objects, 0);
    await writeFile(join(dir, 'b.csv'), 'id,name,amount,day\n4,dan,4.5,2024-01-04\n');
    assert.equal((await runSpec(env, spec, { taskId: 'dedupe' })).written, 1);
    const rows = plainRows(await tableRows(env.runtime, 'files.dedupe', 'id'));
    assert.deepEqual(
      rows.map((r) => r.id),
      [1, 2, 3, 4],
    );
    const ledger = await listRawObjects(env.runtime.meta, { task: 'p.dedupe' });
    assert.deepEqual(ledger.map((o) => o.name).sort(), ['a.csv', 'b.csv']);
  });

  test('dedupe by name skips a file whose content changed under the same name', async () => {
    const dir = join(landing, 'byname');
    await mkdir(dir);
    await writeFile(join(dir, 'x.ndjson'), ndjson());
    const spec = {
      source: { files: { path: 'landing/byname', dedupe: 'name' } },
      sink: { table: 'files.byname' },
    };
    assert.equal((await runSpec(env, spec, { taskId: 'byname' })).written, 3);
    await writeFile(
      join(dir, 'x.ndjson'),
      `${JSON.stringify({ id: 9, name: 'z', amount: 1, day: '2024-02-01' })}\n`,
    );
    assert.equal((await runSpec(env, spec, { taskId: 'byname' })).written, 0);
  });

  test('a file that is not what its extension says is quarantined whole; the others load', async () => {
    const dir = join(landing, 'broken');
    await mkdir(dir);
    await writeFile(join(dir, 'good.ndjson'), ndjson());
    await writeFile(join(dir, 'bad.ndjson'), '{"id": 1, "name": \n not json at all\n');
    const summary = await runSpec(
      env,
      { source: { files: { path: 'landing/broken' } }, sink: { table: 'files.broken' } },
      { taskId: 'broken' },
    );
    assert.equal(summary.written, 3);
    assert.equal(summary.quarantined, 1);
    const q = plainRows(await tableRows(env.runtime, 'files.broken__quarantine'));
    assert.equal(q.length, 1);
    assert.match(String(q[0]?.__raw_object), /^raw\/p\.broken\//);
    assert.match(String(q[0]?.__reason), /cannot read ndjson/);
  });

  test('files under an object-store prefix', async () => {
    await env.runtime.store.put('landing/orders/2024/01.csv', csv(','));
    await env.runtime.store.put(
      'landing/orders/2024/02.csv.gz',
      gzipSync('id,name,amount,day\n4,dan,4.5,2024-01-04\n'),
    );
    const summary = await runSpec(
      env,
      {
        source: { files: { prefix: 'landing/orders/', glob: '**/*.csv*' } },
        sink: { table: 'files.prefixed' },
      },
      { taskId: 'prefix' },
    );
    assert.equal(summary.written, 4);
    assert.equal(summary.objects, 2);
  });
});
