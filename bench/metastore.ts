/**
 * Small-transaction throughput of the metastore against the raw drivers doing the same
 * statements: INSERT a sluice_state row and UPDATE it, in one transaction.
 *   node dist/bench/metastore.js [transactions per round]
 * Prints a table and writes bench/out/metastore.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type MetaStore, openMetaStore } from '../src/metastore/index.js';
import { startPostgres } from '../test/helpers/postgres.js';

const TRANSACTIONS = Number(process.argv[2] ?? 10_000);
/** PostgreSQL pays a network round trip per statement: fewer transactions give as stable a rate. */
const PG_TRANSACTIONS = Math.ceil(TRANSACTIONS / 5);
const WARMUP = 500;
/** Rounds alternate ours and raw; the best of each is kept, which damps noise from other processes. */
const ROUNDS = 3;
const INSERT = 'INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, 0)';
const UPDATE = 'UPDATE sluice_state SET value = ?, version = version + 1 WHERE scope = ? AND key = ?';
const PG_INSERT = 'INSERT INTO sluice_state (scope, key, value, version) VALUES ($1, $2, $3, 0)';
const PG_UPDATE = 'UPDATE sluice_state SET value = $1, version = version + 1 WHERE scope = $2 AND key = $3';

interface Result {
  name: string;
  transactions: number;
  oursTxPerSec: number;
  rawTxPerSec: number;
  ratio: number;
}

/** Transactions per second of `count` calls of `tx`, `streams` of them in flight. */
async function rate(
  count: number,
  streams: number,
  tx: (i: number) => Promise<void> | void,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      while (next < count) await tx(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return Math.round(count / seconds);
}

/** Our layer: one store.transaction per pair of statements. */
function oursTx(store: MetaStore, scope: string): (i: number) => Promise<void> {
  return (i) =>
    store.transaction(async (tx) => {
      await tx.execute(INSERT, [scope, String(i), 'a']);
      await tx.execute(UPDATE, ['b', scope, String(i)]);
    });
}

async function measure(
  name: string,
  count: number,
  streams: number,
  ours: (scope: string) => (i: number) => Promise<void>,
  raw: (scope: string) => (i: number) => Promise<void> | void,
): Promise<Result> {
  await rate(WARMUP, streams, ours(`${name}-warm-ours`));
  await rate(WARMUP, streams, raw(`${name}-warm-raw`));
  let oursTxPerSec = 0;
  let rawTxPerSec = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    oursTxPerSec = Math.max(oursTxPerSec, await rate(count, streams, ours(`${name}-ours-${round}`)));
    rawTxPerSec = Math.max(rawTxPerSec, await rate(count, streams, raw(`${name}-raw-${round}`)));
  }
  return {
    name,
    transactions: count,
    oursTxPerSec,
    rawTxPerSec,
    ratio: Math.round((oursTxPerSec / rawTxPerSec) * 100) / 100,
  };
}

async function sqlite(dir: string): Promise<Result> {
  const store = await openMetaStore(`sqlite://${join(dir, 'ours.db')}`);
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE sluice_state (scope VARCHAR(255) NOT NULL, key VARCHAR(255) NOT NULL, value TEXT, version BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (scope, key))',
  );
  const insert = db.prepare(INSERT);
  const update = db.prepare(UPDATE);
  const pair = db.transaction((scope: string, key: string) => {
    insert.run(scope, key, 'a');
    update.run('b', scope, key);
  });
  try {
    return await measure(
      'sqlite',
      TRANSACTIONS,
      1,
      (scope) => oursTx(store, scope),
      (scope) => (i) => pair.immediate(scope, String(i)),
    );
  } finally {
    await store.close();
    db.close();
  }
}

async function postgres(url: string, streams: number): Promise<Result> {
  const store = await openMetaStore(url, { poolMax: streams });
  const pool = new pg.Pool({ connectionString: url, max: streams });
  const rawTx = (scope: string) => async (i: number) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(PG_INSERT, [scope, String(i), 'a']);
      await client.query(PG_UPDATE, ['b', scope, String(i)]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  try {
    return await measure(
      `postgres x${streams}`,
      PG_TRANSACTIONS,
      streams,
      (scope) => oursTx(store, scope),
      rawTx,
    );
  } finally {
    await store.close();
    await pool.end();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const server = await startPostgres();
  const results: Result[] = [];
  try {
    results.push(await sqlite(dir));
    results.push(await postgres(server.url, 1));
    results.push(await postgres(server.url, 8));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('metastore: transactions of INSERT + UPDATE on sluice_state, tx/s (higher is better)\n');
  const row = (cells: unknown[]) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(14) : String(c).padStart(13))).join('');
  console.log(row(['backend', 'transactions', 'sluice', 'raw driver', 'sluice/raw']));
  for (const r of results)
    console.log(row([r.name, r.transactions, r.oursTxPerSec, r.rawTxPerSec, r.ratio.toFixed(2)]));
  const out = fileURLToPath(new URL('../../bench/out/', import.meta.url));
  mkdirSync(out, { recursive: true });
  const report = {
    benchmark: 'metastore',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    results,
  };
  writeFileSync(join(out, 'metastore.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${join(out, 'metastore.json')}`);
}

await main();
