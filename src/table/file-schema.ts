/**
 * The nested names a data file was written with, read from its Parquet footer, for tables
 * whose struct fields were renamed or whose names were reused. DuckDB's read_parquet matches
 * struct children by name, so such files are read with their own names, selected by field id,
 * and rebuilt to today's names (see scan-sql.ts). Footers are only read when the table's
 * schema history makes it necessary (`nestedNamesStable`).
 */
import type { DuckConnection } from '../duck/index.js';
import { sqlStringList } from '../duck/index.js';
import type { IcebergType, Schema } from './types.js';

/** A column of a Parquet file as written: its name, field id and nested columns. */
export interface FileNode {
  name: string;
  id: number | undefined;
  kind: 'primitive' | 'struct' | 'list' | 'map';
  /** Struct children. */
  fields?: FileNode[];
  /** List element. */
  element?: FileNode;
  key?: FileNode;
  value?: FileNode;
}

/** The top-level columns of a file by field id. */
export type FileColumns = Map<number, FileNode>;

/**
 * Whether every struct child keeps one name across the table's schemas, and no name of a
 * struct is used by two field ids: then files of any schema can be read by today's nested
 * names (children absent from a file read NULL, extra ones are skipped).
 */
export function nestedNamesStable(schemas: readonly Schema[]): boolean {
  const names = new Map<string, string>();
  const walk = (type: IcebergType, parent: number): boolean => {
    if (typeof type !== 'object') return true;
    if (type.type === 'list') return walk(type.element, type['element-id']);
    if (type.type === 'map') return walk(type.key, type['key-id']) && walk(type.value, type['value-id']);
    for (const f of type.fields) {
      const byId = `${parent}#${f.id}`;
      const byName = `${parent}@${f.name.toLowerCase()}`;
      if ((names.get(byId) ?? f.name) !== f.name) return false;
      if ((names.get(byName) ?? String(f.id)) !== String(f.id)) return false;
      names.set(byId, f.name);
      names.set(byName, String(f.id));
      if (!walk(f.type, f.id)) return false;
    }
    return true;
  };
  return schemas.every((s) => s.fields.every((f) => walk(f.type, f.id)));
}

interface SchemaRow {
  file_name: string;
  name: string;
  repetition_type: string | null;
  num_children: bigint | number | null;
  converted_type: string | null;
  logical_type: string | null;
  field_id: bigint | number | null;
}

class Cursor {
  i = 0;
  constructor(readonly rows: readonly SchemaRow[]) {}

  next(): SchemaRow | undefined {
    return this.rows[this.i++];
  }

  node(): FileNode | undefined {
    const row = this.next();
    if (!row) return undefined;
    const n = Number(row.num_children ?? 0);
    const id = row.field_id === null ? undefined : Number(row.field_id);
    if (n === 0) return { name: row.name, id, kind: 'primitive' };
    const tag = `${row.converted_type ?? ''} ${row.logical_type ?? ''}`.toUpperCase();
    if (n === 1 && /\bMAP/.test(tag)) {
      const [key, value] = this.node()?.fields ?? [];
      return { name: row.name, id, kind: 'map', key, value };
    }
    if (n === 1 && /\bLIST/.test(tag)) {
      const repeated = this.node();
      // Three-level lists wrap the element in a repeated group of one child; two-level ones repeat it.
      const element =
        repeated?.kind === 'struct' && repeated.fields?.length === 1 ? repeated.fields[0] : repeated;
      return { name: row.name, id, kind: 'list', element };
    }
    const fields: FileNode[] = [];
    for (let k = 0; k < n; k++) {
      const c = this.node();
      if (c) fields.push(c);
    }
    return { name: row.name, id, kind: 'struct', fields };
  }
}

/** Files' columns kept per process: data files never change once written. */
const CACHE_ENTRIES = 20_000;
const cache = new Map<string, FileColumns>();

/** The top-level columns of each file by field id, from one `parquet_schema` query for the files not seen before. */
export async function readFileColumns(
  conn: DuckConnection,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, FileColumns>> {
  const out = new Map<string, FileColumns>();
  const unseen = [...new Set(paths)].filter((p) => {
    const hit = cache.get(p);
    if (hit) out.set(p, hit);
    return !hit;
  });
  if (unseen.length === 0) return out;
  const rows = await conn.all<SchemaRow>(
    `SELECT file_name, name, repetition_type, num_children, converted_type, logical_type, field_id FROM parquet_schema(${sqlStringList(unseen)})`,
    undefined,
    { signal },
  );
  const byFile = new Map<string, SchemaRow[]>();
  for (const r of rows) {
    const list = byFile.get(r.file_name) ?? [];
    list.push(r);
    byFile.set(r.file_name, list);
  }
  for (const [file, list] of byFile) {
    const cursor = new Cursor(list);
    const root = cursor.next();
    const cols: FileColumns = new Map();
    for (let k = 0; k < Number(root?.num_children ?? 0); k++) {
      const node = cursor.node();
      if (node?.id !== undefined) cols.set(node.id, node);
    }
    out.set(file, cols);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(file, cols);
  }
  return out;
}
