/**
 * The prunable part of a SQL filter: top-level AND-ed conjuncts of the forms `col op literal`,
 * `literal op col`, `col IN (literals)`, `col BETWEEN a AND b`, `col IS [NOT] NULL`. Anything
 * else is left to DuckDB (still applied when reading, never used to skip files). A filter with
 * a top-level OR prunes nothing.
 */
import { InvalidInputError } from '../util/index.js';
import type { Predicate } from './partition.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import { findFieldByName } from './schema.js';
import type { PrimitiveType, PrimitiveValue, Schema } from './types.js';
import { coerceValue } from './values.js';

/** A predicate on one primitive column, with its value(s) in the column type's representation. */
export interface ColumnPredicate {
  fieldId: number;
  column: string;
  type: PrimitiveType;
  pred: Predicate;
}

type Token =
  | { t: 'id'; v: string }
  | { t: 'num'; v: string }
  | { t: 'str'; v: string }
  | { t: 'op'; v: string }
  | { t: 'kw'; v: string };

const KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
  'BETWEEN',
  'DATE',
  'TIMESTAMP',
  'TIMESTAMPTZ',
  'TIME',
]);

function tokenize(sql: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = sql.slice(i);
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(rest);
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    const op = /^(<=|>=|<>|!=|==|=|<|>|\(|\)|,|\.)/.exec(rest);
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= sql.length) return undefined;
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += sql[i++];
      }
      out.push({ t: 'str', v });
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) return undefined;
      out.push({ t: 'id', v: sql.slice(i + 1, end) });
      i = end + 1;
    } else if (num) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
    } else if (word) {
      const up = word[0].toUpperCase();
      out.push(KEYWORDS.has(up) ? { t: 'kw', v: up } : { t: 'id', v: word[0] });
      i += word[0].length;
    } else if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
    } else {
      out.push({ t: 'op', v: c });
      i++;
    }
  }
  return out;
}

/** Split tokens on top-level AND (the AND of a BETWEEN stays); undefined when a top-level OR is present. */
function conjuncts(tokens: Token[]): Token[][] | undefined {
  const out: Token[][] = [[]];
  let depth = 0;
  let between = false;
  for (const tok of tokens) {
    if (tok.t === 'op' && tok.v === '(') depth++;
    if (tok.t === 'op' && tok.v === ')') depth--;
    if (depth === 0 && tok.t === 'kw') {
      if (tok.v === 'OR') return undefined;
      if (tok.v === 'BETWEEN') between = true;
      else if (tok.v === 'AND') {
        if (between) between = false;
        else {
          out.push([]);
          continue;
        }
      }
    }
    out[out.length - 1]?.push(tok);
  }
  return out.map(strip);
}

function strip(tokens: Token[]): Token[] {
  let t = tokens;
  while (t.length >= 2 && isOp(t[0], '(') && isOp(t[t.length - 1], ')')) {
    let depth = 0;
    let wraps = true;
    for (let i = 0; i < t.length - 1; i++) {
      const tok = t[i];
      if (isOp(tok, '(')) depth++;
      if (isOp(tok, ')')) depth--;
      if (depth === 0) {
        wraps = false;
        break;
      }
    }
    if (!wraps) break;
    t = t.slice(1, -1);
  }
  return t;
}

const isOp = (tok: Token | undefined, v: string) => tok?.t === 'op' && tok.v === v;

/** A column reference at `i`: identifiers joined by dots. */
function readColumn(tokens: Token[], i: number): { name: string; next: number } | undefined {
  if (tokens[i]?.t !== 'id') return undefined;
  const parts = [tokens[i]?.v as string];
  let j = i + 1;
  while (isOp(tokens[j], '.') && tokens[j + 1]?.t === 'id') {
    parts.push(tokens[j + 1]?.v as string);
    j += 2;
  }
  if (isOp(tokens[j], '(')) return undefined;
  return { name: parts.join('.'), next: j };
}

interface Literal {
  kind: 'num' | 'str' | 'bool' | 'typed';
  text: string;
}

function readLiteral(tokens: Token[], i: number): { lit: Literal; next: number } | undefined {
  const tok = tokens[i];
  if (!tok) return undefined;
  if (tok.t === 'num') return { lit: { kind: 'num', text: tok.v }, next: i + 1 };
  if (tok.t === 'str') return { lit: { kind: 'str', text: tok.v }, next: i + 1 };
  if (tok.t === 'kw' && (tok.v === 'TRUE' || tok.v === 'FALSE'))
    return { lit: { kind: 'bool', text: tok.v }, next: i + 1 };
  if (
    tok.t === 'kw' &&
    ['DATE', 'TIMESTAMP', 'TIMESTAMPTZ', 'TIME'].includes(tok.v) &&
    tokens[i + 1]?.t === 'str'
  )
    return { lit: { kind: 'typed', text: tokens[i + 1]?.v as string }, next: i + 2 };
  return undefined;
}

/** The literal as a value of the column type, or undefined when it cannot be used for pruning. */
function literalValue(type: PrimitiveType, lit: Literal): PrimitiveValue | undefined {
  const kind = parsePrimitive(type).kind;
  try {
    switch (kind) {
      case 'boolean':
        return lit.kind === 'bool' ? lit.text === 'TRUE' : undefined;
      case 'int':
      case 'long':
        return lit.kind === 'num' && /^-?\d+$/.test(lit.text)
          ? coerceValue(type, BigInt(lit.text))
          : undefined;
      case 'float':
      case 'double':
        return lit.kind === 'num' ? coerceValue(type, Number(lit.text)) : undefined;
      case 'decimal':
        return lit.kind === 'num' ? coerceValue(type, lit.text) : undefined;
      case 'timestamp':
      case 'timestamptz':
        if (lit.kind !== 'str' && lit.kind !== 'typed') return undefined;
        return coerceValue(type, lit.text);
      case 'date':
      case 'time':
      case 'string':
      case 'uuid':
        return lit.kind === 'str' || lit.kind === 'typed' ? coerceValue(type, lit.text) : undefined;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '!=': '!=' };

function parseConjunct(
  tokens: Token[],
): { column: string; build: (t: PrimitiveType) => Predicate[] } | undefined {
  const col = readColumn(tokens, 0);
  const norm = (op: string) => (op === '==' ? '=' : op === '<>' ? '!=' : op);
  const cmp = (op: string, lit: Literal) => (t: PrimitiveType) => {
    const v = literalValue(t, lit);
    return v === undefined ? [] : [{ op: norm(op), value: v } as Predicate];
  };
  if (col) {
    const rest = tokens.slice(col.next);
    const op = rest[0];
    if (op?.t === 'op' && FLIP[norm(op.v)]) {
      const lit = readLiteral(rest, 1);
      if (lit && lit.next === rest.length) return { column: col.name, build: cmp(op.v, lit.lit) };
      return undefined;
    }
    if (op?.t === 'kw' && op.v === 'IS') {
      const not = rest[1]?.t === 'kw' && rest[1].v === 'NOT';
      const n = rest[not ? 2 : 1];
      if (n?.t === 'kw' && n.v === 'NULL' && rest.length === (not ? 3 : 2))
        return { column: col.name, build: () => [{ op: not ? 'not-null' : 'is-null' }] };
      return undefined;
    }
    if (op?.t === 'kw' && op.v === 'BETWEEN') {
      const a = readLiteral(rest, 1);
      if (!a || !(rest[a.next]?.t === 'kw' && rest[a.next]?.v === 'AND')) return undefined;
      const b = readLiteral(rest, a.next + 1);
      if (!b || b.next !== rest.length) return undefined;
      return {
        column: col.name,
        build: (t) => {
          const lo = cmp('>=', a.lit)(t);
          const hi = cmp('<=', b.lit)(t);
          return lo.length > 0 && hi.length > 0 ? [...lo, ...hi] : [];
        },
      };
    }
    if (op?.t === 'kw' && op.v === 'IN' && isOp(rest[1], '(') && isOp(rest[rest.length - 1], ')')) {
      const lits: Literal[] = [];
      let i = 2;
      while (i < rest.length - 1) {
        const l = readLiteral(rest, i);
        if (!l) return undefined;
        lits.push(l.lit);
        i = l.next;
        if (isOp(rest[i], ',')) i++;
        else if (i !== rest.length - 1) return undefined;
      }
      return {
        column: col.name,
        build: (t) => {
          const values = lits.map((l) => literalValue(t, l));
          return values.some((v) => v === undefined) ? [] : [{ op: 'in', values }];
        },
      };
    }
    return undefined;
  }
  const lit = readLiteral(tokens, 0);
  const op = lit ? tokens[lit.next] : undefined;
  if (lit && op?.t === 'op' && FLIP[norm(op.v)]) {
    const c = readColumn(tokens, lit.next + 1);
    if (c && c.next === tokens.length)
      return { column: c.name, build: cmp(FLIP[norm(op.v)] as string, lit.lit) };
  }
  return undefined;
}

/** The prunable predicates of a filter; `complete` when they express the whole filter. */
export interface ParsedFilter {
  predicates: ColumnPredicate[];
  complete: boolean;
}

/**
 * The prunable predicates of a SQL filter over `schema`.
 * @throws InvalidInputError when a prunable conjunct names a column that is not in the schema.
 */
export function parseFilter(sql: string | undefined, schema: Schema): ParsedFilter {
  if (!sql?.trim()) return { predicates: [], complete: true };
  const tokens = tokenize(sql);
  const parts = tokens ? conjuncts(tokens) : undefined;
  if (!parts) return { predicates: [], complete: false };
  const out: ColumnPredicate[] = [];
  let complete = true;
  for (const part of parts) {
    const c = parseConjunct(part);
    if (!c) {
      complete = false;
      continue;
    }
    const field =
      findFieldByName(schema, c.column) ?? findFieldByName(schema, c.column, { caseSensitive: false });
    if (!field) {
      throw new InvalidInputError(
        `unknown column "${c.column}" in filter ${JSON.stringify(sql)}`,
        `columns: ${schema.fields.map((f) => f.name).join(', ')}`,
      );
    }
    const preds = isPrimitive(field.type) ? c.build(field.type) : [];
    if (preds.length === 0) complete = false;
    for (const pred of preds)
      out.push({ fieldId: field.id, column: c.column, type: field.type as PrimitiveType, pred });
  }
  return { predicates: out, complete };
}
