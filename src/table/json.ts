/**
 * Lossless JSON for Iceberg metadata: integers outside the JS safe range are parsed as
 * bigints (snapshot ids written by Java or PyIceberg exceed 2^53) and bigints are written
 * back as bare JSON numbers.
 */
import { InvalidInputError } from '../util/index.js';
import type { JsonValue } from './types.js';

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    const line = this.text.slice(0, this.pos).split('\n').length;
    throw new InvalidInputError(`invalid JSON at line ${line} (offset ${this.pos}): ${what}`);
  }

  skipWs(): void {
    while (this.pos < this.text.length && WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  value(depth: number): JsonValue {
    if (depth > 512) this.fail('nesting too deep');
    this.skipWs();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.literal(4, null);
    return this.fail(
      c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`,
    );
  }

  literal(length: number, v: boolean | null): boolean | null {
    this.pos += length;
    return v;
  }

  object(depth: number): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      Object.defineProperty(out, key, {
        value: this.value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) break;
      if (c === 0x5c) this.pos++;
      else if (c < 0x20) this.fail('control character in string');
      this.pos++;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  number(): number | bigint {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) return this.fail('invalid number');
    this.pos += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  }
}

/**
 * Parse JSON text keeping integers outside the safe range exactly, as bigints.
 * @throws InvalidInputError on malformed JSON, naming the line.
 */
export function parseJson(text: string): JsonValue {
  const p = new Parser(text);
  const v = p.value(0);
  p.skipWs();
  if (p.pos !== text.length) p.fail('unexpected trailing characters');
  return v;
}

function write(value: unknown, indent: string, depth: number, out: string[]): void {
  if (value === null || value === undefined) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'bigint':
      out.push(value.toString());
      return;
    case 'number':
      out.push(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'string':
      out.push(JSON.stringify(value));
      return;
    default:
      break;
  }
  const nl = indent ? `\n${indent.repeat(depth + 1)}` : '';
  const close = indent ? `\n${indent.repeat(depth)}` : '';
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push('[]');
      return;
    }
    out.push('[');
    value.forEach((v, i) => {
      if (i > 0) out.push(',');
      out.push(nl);
      write(v, indent, depth + 1, out);
    });
    out.push(close, ']');
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) {
    out.push('{}');
    return;
  }
  out.push('{');
  entries.forEach(([k, v], i) => {
    if (i > 0) out.push(',');
    out.push(nl, JSON.stringify(k), indent ? ': ' : ':');
    write(v, indent, depth + 1, out);
  });
  out.push(close, '}');
}

/** Serialize to JSON writing bigints as bare numbers; `undefined` members are omitted. */
export function stringifyJson(value: unknown, opts: { indent?: number } = {}): string {
  const out: string[] = [];
  write(value, ' '.repeat(opts.indent ?? 0), 0, out);
  return out.join('');
}
