/**
 * Mapping between Iceberg types and DuckDB SQL types, and the `FIELD_IDS` option value of
 * DuckDB's `COPY ... TO (FORMAT parquet, FIELD_IDS {...})` so Parquet columns carry the
 * Iceberg field ids (spec Appendix A, Parquet).
 */
import { InvalidInputError } from '../util/index.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import type { IcebergType, NestedField, StructType } from './types.js';

/** Quote an identifier for DuckDB SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** DuckDB SQL type of an Iceberg type (`decimal(18,3)` → `DECIMAL(18,3)`, lists → `T[]`). */
export function icebergToDuckdbType(type: IcebergType): string {
  if (isPrimitive(type)) {
    const info = parsePrimitive(type);
    switch (info.kind) {
      case 'boolean':
        return 'BOOLEAN';
      case 'int':
        return 'INTEGER';
      case 'long':
        return 'BIGINT';
      case 'float':
        return 'FLOAT';
      case 'double':
        return 'DOUBLE';
      case 'decimal':
        return `DECIMAL(${info.precision},${info.scale})`;
      case 'date':
        return 'DATE';
      case 'time':
        return 'TIME';
      case 'timestamp':
        return 'TIMESTAMP';
      case 'timestamptz':
        return 'TIMESTAMP WITH TIME ZONE';
      case 'string':
        return 'VARCHAR';
      case 'uuid':
        return 'UUID';
      case 'fixed':
      case 'binary':
        return 'BLOB';
    }
  }
  if (type.type === 'struct')
    return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${icebergToDuckdbType(f.type)}`).join(', ')})`;
  if (type.type === 'list') return `${icebergToDuckdbType(type.element)}[]`;
  return `MAP(${icebergToDuckdbType(type.key)}, ${icebergToDuckdbType(type.value)})`;
}

class TypeParser {
  pos = 0;
  constructor(
    readonly text: string,
    readonly nextId: () => number,
  ) {}

  fail(what: string): never {
    throw new InvalidInputError(`cannot map DuckDB type "${this.text}" to Iceberg: ${what}`);
  }

  ws(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  peek(s: string): boolean {
    this.ws();
    return this.text.startsWith(s, this.pos);
  }

  expect(s: string): void {
    if (!this.peek(s)) this.fail(`expected "${s}" at offset ${this.pos}`);
    this.pos += s.length;
  }

  ident(): string {
    this.ws();
    if (this.text[this.pos] === '"') {
      let out = '';
      this.pos++;
      for (;;) {
        const c = this.text[this.pos++];
        if (c === undefined) this.fail('unterminated quoted name');
        if (c === '"') {
          if (this.text[this.pos] === '"') {
            out += '"';
            this.pos++;
            continue;
          }
          return out;
        }
        out += c;
      }
    }
    const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail(`expected a name at offset ${this.pos}`);
    this.pos += m[0].length;
    return m[0];
  }

  type(): IcebergType {
    this.ws();
    let base: IcebergType;
    const word = /^[A-Za-z_][A-Za-z0-9_ ]*?(?=\s*(\(|\[|,|\)|$))/.exec(this.text.slice(this.pos))?.[0];
    if (!word) return this.fail(`expected a type at offset ${this.pos}`);
    this.pos += word.length;
    const name = word.trim().toUpperCase().replace(/\s+/g, ' ');
    if (name === 'STRUCT' || name === 'ROW') {
      this.expect('(');
      const fields: NestedField[] = [];
      for (;;) {
        const fname = this.ident();
        const id = this.nextId();
        fields.push({ id, name: fname, required: false, type: this.type() });
        if (!this.peek(',')) break;
        this.expect(',');
      }
      this.expect(')');
      base = { type: 'struct', fields } satisfies StructType;
    } else if (name === 'MAP') {
      this.expect('(');
      const keyId = this.nextId();
      const valueId = this.nextId();
      const key = this.type();
      this.expect(',');
      const value = this.type();
      this.expect(')');
      base = { type: 'map', 'key-id': keyId, key, 'value-id': valueId, value, 'value-required': false };
    } else if (name === 'LIST') {
      this.expect('(');
      const id = this.nextId();
      const element = this.type();
      this.expect(')');
      base = { type: 'list', 'element-id': id, element, 'element-required': false };
    } else {
      let params: number[] = [];
      if (this.peek('(')) {
        this.expect('(');
        const close = this.text.indexOf(')', this.pos);
        if (close < 0) this.fail('unbalanced parentheses');
        params = this.text
          .slice(this.pos, close)
          .split(',')
          .map((p) => Number(p.trim()));
        this.pos = close + 1;
      }
      base = primitiveFromDuckdb(name, params, this);
    }
    while (this.peek('[')) {
      this.expect('[');
      const close = this.text.indexOf(']', this.pos);
      if (close < 0) this.fail('unbalanced brackets');
      this.pos = close + 1;
      base = { type: 'list', 'element-id': this.nextId(), element: base, 'element-required': false };
    }
    return base;
  }
}

function primitiveFromDuckdb(name: string, params: number[], p: TypeParser): IcebergType {
  switch (name) {
    case 'BOOLEAN':
    case 'BOOL':
    case 'LOGICAL':
      return 'boolean';
    case 'TINYINT':
    case 'INT1':
    case 'SMALLINT':
    case 'INT2':
    case 'SHORT':
    case 'INTEGER':
    case 'INT':
    case 'INT4':
    case 'SIGNED':
    case 'UTINYINT':
    case 'USMALLINT':
      return 'int';
    case 'BIGINT':
    case 'INT8':
    case 'LONG':
    case 'UINTEGER':
      return 'long';
    case 'UBIGINT':
      return 'decimal(20,0)';
    case 'HUGEINT':
    case 'INT128':
      return 'decimal(38,0)';
    case 'FLOAT':
    case 'FLOAT4':
    case 'REAL':
      return 'float';
    case 'DOUBLE':
    case 'FLOAT8':
      return 'double';
    case 'DECIMAL':
    case 'NUMERIC': {
      const [precision = 18, scale = 3] = params;
      if (precision > 38) p.fail('decimal precision above 38');
      return `decimal(${precision},${scale})`;
    }
    case 'DATE':
      return 'date';
    case 'TIME':
      return 'time';
    case 'TIMESTAMP':
    case 'DATETIME':
    case 'TIMESTAMP_US':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP WITHOUT TIME ZONE':
      return 'timestamp';
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMPTZ':
      return 'timestamptz';
    case 'VARCHAR':
    case 'TEXT':
    case 'STRING':
    case 'CHAR':
    case 'BPCHAR':
    case 'NVARCHAR':
    case 'JSON':
      return 'string';
    case 'UUID':
      return 'uuid';
    case 'BLOB':
    case 'BYTEA':
    case 'BINARY':
    case 'VARBINARY':
      return 'binary';
    case 'TIMESTAMP_NS':
      return p.fail('nanosecond timestamps need Iceberg format v3; cast to TIMESTAMP');
    default:
      if (name.startsWith('ENUM')) return 'string';
      return p.fail(`no Iceberg v2 type for ${name}`);
  }
}

/**
 * Iceberg type of a DuckDB type name (`BIGINT`, `DECIMAL(18,3)`, `STRUCT(a INTEGER)`,
 * `INTEGER[]`, `MAP(VARCHAR, DOUBLE)`). Nested fields are optional and take ids from
 * `nextId` (default: counting from 1). SMALLINT/TINYINT → int, UINTEGER → long,
 * UBIGINT → decimal(20,0), HUGEINT → decimal(38,0), ENUM/JSON → string.
 * @throws InvalidInputError for types without an Iceberg v2 equivalent (INTERVAL, UNION, ...).
 */
export function duckdbToIcebergType(sqlType: string, nextId?: () => number): IcebergType {
  let n = 0;
  const p = new TypeParser(sqlType, nextId ?? (() => ++n));
  const t = p.type();
  p.ws();
  if (p.pos !== sqlType.length) p.fail(`unexpected "${sqlType.slice(p.pos)}"`);
  return t;
}

function fieldIdsOf(type: IcebergType): string | undefined {
  if (isPrimitive(type)) return undefined;
  if (type.type === 'struct') return type.fields.map((f) => entry(f.name, f.id, f.type)).join(', ');
  if (type.type === 'list') return entry('element', type['element-id'], type.element);
  return `${entry('key', type['key-id'], type.key)}, ${entry('value', type['value-id'], type.value)}`;
}

function entry(name: string, id: number, type: IcebergType): string {
  const nested = fieldIdsOf(type);
  return nested === undefined
    ? `${quoteIdent(name)}: ${id}`
    : `${quoteIdent(name)}: {__duckdb_field_id: ${id}, ${nested}}`;
}

/**
 * The value of DuckDB's `FIELD_IDS` COPY option for a schema, e.g.
 * `{"id": 1, "s": {__duckdb_field_id: 2, "x": 3}, "tags": {__duckdb_field_id: 4, "element": 5}}`.
 * Map entries use `key`/`value`, list entries `element`.
 */
export function duckdbFieldIds(schema: StructType): string {
  return `{${fieldIdsOf(schema) ?? ''}}`;
}
