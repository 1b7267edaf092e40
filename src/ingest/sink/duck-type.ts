/**
 * DuckDB type names split into their nesting (`STRUCT(a BIGINT, b VARCHAR[])`, `MAP(K, V)`,
 * `T[]`), so the sink can compare a record column with a table column field by field.
 */
import { InvalidInputError } from '../../util/index.js';

/** A DuckDB type with its text (as DuckDB prints it) and, for nested types, its parts. */
export type DuckType = { text: string } & (
  | { kind: 'struct'; fields: { name: string; type: DuckType }[] }
  | { kind: 'list'; element: DuckType }
  | { kind: 'map'; key: DuckType; value: DuckType }
  | { kind: 'leaf' }
);

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new InvalidInputError(`cannot read DuckDB type "${this.text}": ${what}`);
  }

  ws(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  eat(s: string): boolean {
    this.ws();
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  expect(s: string): void {
    if (!this.eat(s)) this.fail(`expected "${s}" at offset ${this.pos}`);
  }

  name(): string {
    this.ws();
    if (this.text[this.pos] !== '"') {
      const m = /^[^\s"(),[\]]+/.exec(this.text.slice(this.pos));
      if (!m) this.fail(`expected a name at offset ${this.pos}`);
      this.pos += m[0].length;
      return m[0];
    }
    let out = '';
    for (this.pos++; ; this.pos++) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('unterminated quoted name');
      if (c === '"' && this.text[this.pos + 1] === '"') {
        out += '"';
        this.pos++;
      } else if (c === '"') {
        this.pos++;
        return out;
      } else out += c;
    }
  }

  /** A leaf type: up to the next `,`, `)` or `[` outside parentheses and quotes. */
  leaf(): void {
    let depth = 0;
    let quote: string | undefined;
    for (; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos] as string;
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '(') depth++;
      else if (c === ')' && depth > 0) depth--;
      else if (depth === 0 && (c === ',' || c === ')' || c === '[')) return;
    }
  }

  type(): DuckType {
    this.ws();
    const start = this.pos;
    const head = /^(STRUCT|ROW|MAP)\s*\(/i.exec(this.text.slice(this.pos));
    let t: DuckType;
    if (head && head[1]?.toUpperCase() !== 'MAP') {
      this.pos += head[0].length;
      const fields: { name: string; type: DuckType }[] = [];
      do fields.push({ name: this.name(), type: this.type() });
      while (this.eat(','));
      this.expect(')');
      t = { kind: 'struct', fields, text: this.text.slice(start, this.pos) };
    } else if (head) {
      this.pos += head[0].length;
      const key = this.type();
      this.expect(',');
      const value = this.type();
      this.expect(')');
      t = { kind: 'map', key, value, text: this.text.slice(start, this.pos) };
    } else {
      this.leaf();
      t = { kind: 'leaf', text: this.text.slice(start, this.pos).trim() };
    }
    while (this.eat('[')) {
      const close = this.text.indexOf(']', this.pos);
      if (close < 0) this.fail('unbalanced brackets');
      this.pos = close + 1;
      t = { kind: 'list', element: t, text: this.text.slice(start, this.pos) };
    }
    return t;
  }
}

/** The parts of a DuckDB type name as `DESCRIBE` prints it. */
export function parseDuckType(text: string): DuckType {
  const r = new Reader(text);
  const t = r.type();
  r.ws();
  if (r.pos !== text.length) r.fail(`unexpected "${text.slice(r.pos)}"`);
  return t;
}
