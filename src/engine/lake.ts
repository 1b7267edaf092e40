/**
 * Catalog tables as DuckDB views: schema = namespace, view = table, reading the current
 * snapshot's files (columns by field id, position deletes applied, via table scan planning).
 *
 * Before every statement the engine compares the catalog pointers (one metastore query) with
 * the views it built and rebuilds the changed ones, so a statement never reads a snapshot
 * older than the last commit that returned before it started. Planning a table (reading its
 * manifests, downloading remote files into the read cache) happens only for tables a
 * statement names, or named earlier; the others get a view with the right columns that
 * refuses to be read until then.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  parseMetadataFile,
  readMetadataText,
  readTableMetadata,
  rememberedMetadata,
} from '../catalog/metadata-io.js';
import { readViewMetadata, VIEW_RECORD_TYPE, viewSchema, viewSql } from '../catalog/views.js';
import { sqlString } from '../duck/index.js';
import type { MetaStore } from '../metastore/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  currentSchema,
  currentSchemaOf,
  icebergToDuckdbType,
  parseJson,
  planScan,
  quoteIdent,
  type ScanOptions,
  scanSql,
  type TableIdentifier,
  TableIO,
  type TableMetadata,
} from '../table/index.js';
import type { Schema } from '../table/types.js';
import { InvalidInputError, NotFoundError } from '../util/index.js';
import { tokenize } from './lexer.js';

/** A catalog table as the engine knows it. */
export interface LakeTable {
  id: TableIdentifier;
  schema: string;
  name: string;
  location: string;
  /**
   * The validated metadata of `location`; undefined while the table is a placeholder no
   * statement has named, whose view needs only `columns` (its file is validated when named).
   */
  metadata: TableMetadata | undefined;
  /** The current schema: the columns of its view. */
  columns: Schema;
  /** Whether its view reads the data (else it is a placeholder). */
  loaded: boolean;
  /** Time-travel views built for this pointer (`name@spec`). */
  pinned: Set<string>;
}

/** A catalog view as the engine knows it: a DuckDB view running its SQL. */
export interface LakeView {
  id: TableIdentifier;
  schema: string;
  name: string;
  location: string;
  sql: string;
  /** Properties of its metadata (e.g. `sluice.pii.columns`). */
  properties: Record<string, string>;
  /** Names of its columns, as its current version records them. */
  columns: string[];
  /** Lower-case words of its SQL (the tables and views it may read). */
  words: Set<string>;
  /** Whether the DuckDB view exists for this version. */
  built: boolean;
}

/** The comment DuckDB views of catalog views carry (pgwire's catalog tells them from tables by it). */
export const LAKE_VIEW_COMMENT = 'sluice catalog view';

type PointerRow = {
  table_namespace: string;
  table_name: string;
  metadata_location: string | null;
  iceberg_type: string | null;
};

/** Words a statement mentions (lower case), and the `name@spec` identifiers among them. */
export function mentionsOf(sql: string): Set<string> {
  const out = new Set<string>();
  for (const t of tokenize(sql)) if (t.kind === 'word' || t.kind === 'quoted') out.add(t.text.toLowerCase());
  return out;
}

/** The snapshot a `name@spec` suffix selects: digits = snapshot id, a date/time = as of, else a branch or tag. */
export function parseTimeTravel(spec: string): ScanOptions {
  if (/^\d+$/.test(spec)) return { snapshotId: BigInt(spec) };
  if (/^\d{4}-\d{2}-\d{2}/.test(spec)) {
    const zoned = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(spec) || spec.length === 10 ? spec : `${spec}Z`;
    const ms = Date.parse(spec.length === 10 ? `${spec}T00:00:00Z` : zoned.replace(' ', 'T'));
    if (Number.isNaN(ms))
      throw new InvalidInputError(`"${spec}" is not a timestamp`, 'write e.g. ns."t@2024-06-01T12:00:00Z"');
    return { asOfMs: ms };
  }
  return { ref: spec };
}

/** The views of the catalog's tables in one DuckDB database. */
export class LakeViews {
  readonly #meta: MetaStore;
  readonly #store: ObjectStore;
  readonly #io: TableIO;
  readonly #catalog: string;
  readonly #tables = new Map<string, LakeTable>();
  readonly #views = new Map<string, LakeView>();
  readonly #schemas = new Set<string>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(meta: MetaStore, store: ObjectStore, catalogName: string) {
    this.#meta = meta;
    this.#store = store;
    this.#io = new TableIO(store);
    this.#catalog = catalogName;
  }

  /** The catalog table a (possibly schema-qualified) name designates, if any. */
  resolve(parts: readonly string[]): LakeTable | undefined {
    return lookup(this.#tables, parts);
  }

  /** The catalog view a (possibly schema-qualified) name designates, if any. */
  resolveView(parts: readonly string[]): LakeView | undefined {
    return lookup(this.#views, parts);
  }

  /** Bring the views up to date for a statement mentioning `words` (serialised across sessions). */
  sync(conn: DuckDBConnection, words: Set<string>, signal?: AbortSignal): Promise<void> {
    const run = this.#lock.then(() => this.#sync(conn, words, signal));
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Forget every view so the next statement rebuilds them (after a cached file disappeared). */
  invalidate(): void {
    for (const t of this.#tables.values()) t.location = '';
  }

  async #sync(conn: DuckDBConnection, mentioned: Set<string>, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const rows = await this.#meta.query<PointerRow>(
      `SELECT table_namespace, table_name, metadata_location, iceberg_type FROM iceberg_tables
       WHERE catalog_name = ? AND (iceberg_type IN ('TABLE', '${VIEW_RECORD_TYPE}') OR iceberg_type IS NULL)`,
      [this.#catalog],
    );
    const viewRows = rows.filter((r) => r.iceberg_type === VIEW_RECORD_TYPE);
    const staleViews = await this.#loadViews(conn, viewRows);
    const words = this.#expand(mentioned);
    const seen = new Set<string>();
    for (const row of rows) {
      if (!row.metadata_location || row.iceberg_type === VIEW_RECORD_TYPE) continue;
      const k = key(row.table_namespace, row.table_name);
      seen.add(k);
      const wanted = words.has(row.table_name.toLowerCase());
      let t = this.#tables.get(k);
      if (!t || t.location !== row.metadata_location) {
        const loaded = wanted || (t?.loaded ?? false);
        // A commit made through this process is remembered by the store: no need to read it again.
        const { metadata, columns } = await this.#read(row.metadata_location, loaded);
        if (t) await this.#dropPinned(conn, t);
        t = {
          id: { namespace: row.table_namespace.split('.'), name: row.table_name },
          schema: row.table_namespace,
          name: row.table_name,
          location: row.metadata_location,
          metadata,
          columns,
          loaded,
          pinned: new Set(),
        };
        this.#tables.set(k, t);
        await this.#ensureSchema(conn, t.schema);
        await this.#build(conn, t, t.name, t.loaded ? {} : undefined, signal);
      } else if (wanted && !t.loaded) {
        t.loaded = true;
        await this.#build(conn, t, t.name, {}, signal);
      }
    }
    for (const [k, t] of this.#tables) {
      if (seen.has(k)) continue;
      await this.#dropPinned(conn, t);
      await conn.run(`DROP VIEW IF EXISTS ${viewName(t.schema, t.name)}`);
      this.#tables.delete(k);
    }
    await this.#buildViews(conn, staleViews);
    await this.#pin(conn, words, signal);
  }

  /**
   * The metadata file at `location`: validated in full when `validate`, else only its current
   * schema is checked (without loading the full validation), falling back to the full one
   * when that check fails, so a broken file still gets an error naming it.
   */
  async #read(location: string, validate: boolean): Promise<{ metadata?: TableMetadata; columns: Schema }> {
    const known = rememberedMetadata(this.#store, location);
    if (known) return { metadata: known, columns: currentSchema(known) };
    const text = await readMetadataText(this.#store, location);
    if (!validate) {
      let columns: Schema | undefined;
      try {
        columns = currentSchemaOf(parseJson(text));
      } catch {
        columns = undefined;
      }
      if (columns) return { columns };
    }
    const metadata = await parseMetadataFile(location, text);
    return { metadata, columns: currentSchema(metadata) };
  }

  /** The validated metadata of `t` (read now if it was a placeholder). */
  async #metadata(t: LakeTable): Promise<TableMetadata> {
    t.metadata ??= await readTableMetadata(this.#store, t.location);
    return t.metadata;
  }

  /** Read the metadata of new and changed views; drop the DuckDB views of dropped ones. */
  async #loadViews(conn: DuckDBConnection, rows: PointerRow[]): Promise<boolean> {
    const seen = new Set<string>();
    let stale = false;
    for (const row of rows) {
      if (!row.metadata_location) continue;
      const k = key(row.table_namespace, row.table_name);
      seen.add(k);
      const v = this.#views.get(k);
      if (v && v.location === row.metadata_location) {
        stale ||= !v.built;
        continue;
      }
      const md = await readViewMetadata(this.#store, row.metadata_location);
      const sql = viewSql(md);
      this.#views.set(k, {
        id: { namespace: row.table_namespace.split('.'), name: row.table_name },
        schema: row.table_namespace,
        name: row.table_name,
        location: row.metadata_location,
        sql,
        properties: md.properties ?? {},
        columns: viewSchema(md)?.fields.map((f) => f.name) ?? [],
        words: mentionsOf(sql),
        built: false,
      });
      stale = true;
    }
    for (const [k, v] of this.#views) {
      if (seen.has(k)) continue;
      await conn.run(`DROP VIEW IF EXISTS ${viewName(v.schema, v.name)}`);
      this.#views.delete(k);
    }
    return stale;
  }

  /** The words of a statement plus those of every catalog view it (transitively) names. */
  #expand(words: Set<string>): Set<string> {
    if (this.#views.size === 0) return words;
    const out = new Set(words);
    const done = new Set<LakeView>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const v of this.#views.values()) {
        if (done.has(v) || !out.has(v.name.toLowerCase())) continue;
        done.add(v);
        for (const w of v.words) if (!out.has(w)) out.add(w);
        grew = true;
      }
    }
    return out;
  }

  /**
   * (Re)create the DuckDB views of catalog views not built yet. A view naming another view
   * is created after it; a view whose SQL no longer binds (a table it reads was dropped) is
   * retried at the next statement and fails with DuckDB's error when read.
   */
  async #buildViews(conn: DuckDBConnection, stale: boolean): Promise<void> {
    if (!stale) return;
    let pending = [...this.#views.values()].filter((v) => !v.built);
    for (let progress = true; pending.length && progress; ) {
      progress = false;
      const failed: LakeView[] = [];
      for (const v of pending) {
        try {
          await this.#ensureSchema(conn, v.schema);
          const name = viewName(v.schema, v.name);
          await conn.run(`CREATE OR REPLACE VIEW ${name} AS ${v.sql}`);
          await conn.run(`COMMENT ON VIEW ${name} IS ${sqlString(LAKE_VIEW_COMMENT)}`);
          v.built = true;
          progress = true;
        } catch {
          failed.push(v);
        }
      }
      pending = failed;
    }
  }

  /** Time-travel views for `name@spec` identifiers of the statement. */
  async #pin(conn: DuckDBConnection, words: Set<string>, signal?: AbortSignal): Promise<void> {
    for (const word of words) {
      const at = word.indexOf('@');
      if (at <= 0) continue;
      const base = word.slice(0, at);
      // Tables of the same name in other schemas need not have the snapshot: it is an error
      // only when no table of that name has it.
      let missing: unknown;
      let built = false;
      for (const t of this.#tables.values()) {
        if (t.name.toLowerCase() !== base) continue;
        const view = `${t.name}${word.slice(at)}`;
        if (t.pinned.has(view.toLowerCase())) {
          built = true;
          continue;
        }
        try {
          await this.#build(conn, t, view, parseTimeTravel(word.slice(at + 1)), signal);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
          missing ??= err;
          continue;
        }
        built = true;
        t.pinned.add(view.toLowerCase());
      }
      if (!built && missing) throw missing;
    }
  }

  async #dropPinned(conn: DuckDBConnection, t: LakeTable): Promise<void> {
    for (const v of t.pinned) await conn.run(`DROP VIEW IF EXISTS ${viewName(t.schema, v)}`);
    t.pinned.clear();
  }

  async #ensureSchema(conn: DuckDBConnection, schema: string): Promise<void> {
    if (this.#schemas.has(schema)) return;
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    this.#schemas.add(schema);
  }

  /** Create the view `schema.view` reading the snapshot `scan` selects (undefined: a placeholder). */
  async #build(
    conn: DuckDBConnection,
    t: LakeTable,
    view: string,
    scan: ScanOptions | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    let body: string;
    if (scan) {
      const plan = await planScan(this.#io, await this.#metadata(t), { ...scan, signal });
      body = scanSql(plan);
    } else {
      const cols = t.columns.fields.map(
        (f) => `CAST(NULL AS ${icebergToDuckdbType(f.type)}) AS ${quoteIdent(f.name)}`,
      );
      const message = sqlString(`table ${t.schema}.${t.name} is not loaded; name it in the statement`);
      body = `SELECT ${cols.join(', ') || '1 AS __empty'} FROM (SELECT 1) WHERE error(${message})`;
    }
    await conn.run(`CREATE OR REPLACE VIEW ${viewName(t.schema, view)} AS ${body}`);
  }
}

/** The entry of `map` a `schema.name` (or `memory.schema.name`) designates, exact case first. */
function lookup<T extends { schema: string; name: string }>(
  map: Map<string, T>,
  parts: readonly string[],
): T | undefined {
  const p = parts.length === 3 && parts[0]?.toLowerCase() === 'memory' ? parts.slice(1) : parts;
  if (p.length !== 2) return undefined;
  const [schema = '', name = ''] = p;
  const exact = map.get(key(schema, name));
  if (exact) return exact;
  const k = key(schema.toLowerCase(), name.toLowerCase());
  for (const t of map.values()) if (key(t.schema.toLowerCase(), t.name.toLowerCase()) === k) return t;
  return undefined;
}

function key(schema: string, name: string): string {
  return `${schema}\0${name}`;
}

function viewName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
