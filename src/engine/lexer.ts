/**
 * A small SQL tokenizer, enough to split statements, find the first keywords of a statement
 * and the names it mentions. It understands DuckDB/PostgreSQL quoting: '...' strings (also
 * E'...'), "..." identifiers, $tag$...$tag$ strings, -- and nested /* *\/ comments.
 */

/** One token of SQL text, with its offsets into the text. */
export interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'param' | 'op';
  /** The identifier/keyword (unquoted, as written), the string's content, or the operator. */
  text: string;
  start: number;
  end: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Tokens of SQL text (comments and whitespace dropped). Unterminated quotes run to the end. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'")) {
      const start = i;
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      let text = '';
      while (i < n) {
        if (escapes && sql[i] === '\\' && i + 1 < n) {
          // E'...' strings: a backslash escapes the next character, \' included.
          text += sql.slice(i, i + 2);
          i += 2;
        } else if (sql[i] === "'" && sql[i + 1] === "'") {
          text += "'";
          i += 2;
        } else if (sql[i] === "'") {
          i++;
          break;
        } else text += sql[i++];
      }
      out.push({ kind: 'string', text, start, end: i });
    } else if (c === '"') {
      const start = i++;
      let text = '';
      while (i < n) {
        if (sql[i] === '"' && sql[i + 1] === '"') {
          text += '"';
          i += 2;
        } else if (sql[i] === '"') {
          i++;
          break;
        } else text += sql[i++];
      }
      out.push({ kind: 'quoted', text, start, end: i });
    } else if (c === '$' && /[0-9]/.test(next ?? '')) {
      const start = i++;
      while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      out.push({ kind: 'param', text: sql.slice(start, i), start, end: i });
    } else if (c === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (!tag) {
        out.push({ kind: 'op', text: c, start: i, end: ++i });
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      const end = close < 0 ? n : close + tag.length;
      out.push({ kind: 'string', text: sql.slice(i + tag.length, close < 0 ? n : close), start: i, end });
      i = end;
    } else if (c === '?') {
      out.push({ kind: 'param', text: c, start: i, end: ++i });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      const start = i;
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i] as string)) {
        if ((sql[i] === 'e' || sql[i] === 'E') && /[+-]/.test(sql[i + 1] ?? '')) i++;
        i++;
      }
      out.push({ kind: 'number', text: sql.slice(start, i), start, end: i });
    } else if (WORD_START.test(c)) {
      const start = i;
      while (i < n && WORD.test(sql[i] as string)) i++;
      out.push({ kind: 'word', text: sql.slice(start, i), start, end: i });
    } else {
      const two = sql.slice(i, i + 2);
      const op = ['::', '<=', '>=', '<>', '!=', '||', '->', '=>'].includes(two) ? two : c;
      out.push({ kind: 'op', text: op, start: i, end: i + op.length });
      i += op.length;
    }
  }
  return out;
}

/** The statements of a SQL text, split at top-level `;` (empty ones dropped), as trimmed text. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (const t of tokenize(sql)) {
    if (t.kind === 'op' && t.text === ';') {
      const s = sql.slice(from, t.start).trim();
      if (hasTokens(s)) out.push(s);
      from = t.end;
    }
  }
  const last = sql.slice(from).trim();
  if (hasTokens(last)) out.push(last);
  return out;
}

function hasTokens(sql: string): boolean {
  return sql !== '' && tokenize(sql).length > 0;
}

/** Whether a token is the keyword `kw` (case-insensitive, unquoted). */
export function isKeyword(t: Token | undefined, ...kw: string[]): boolean {
  return t?.kind === 'word' && kw.includes(t.text.toUpperCase());
}

/** A dotted name starting at token `i`: its parts and the index after it (undefined if none). */
export function nameAt(tokens: readonly Token[], i: number): { parts: string[]; next: number } | undefined {
  const parts: string[] = [];
  let j = i;
  for (;;) {
    const t = tokens[j];
    if (!t || (t.kind !== 'word' && t.kind !== 'quoted'))
      return parts.length ? { parts, next: j } : undefined;
    parts.push(t.text);
    j++;
    if (tokens[j]?.kind === 'op' && tokens[j]?.text === '.') j++;
    else return { parts, next: j };
  }
}
