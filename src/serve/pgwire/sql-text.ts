/**
 * Lexical helpers over SQL text: masking literals so rewrites never touch the contents of
 * strings or comments. Statements are split by the engine's lexer (src/engine/lexer.ts).
 */

/** Index after a quoted/commented span starting at `i`, or `i` when none starts there. */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === c) {
        if (sql[j + 1] === c) j += 2;
        else return j + 1;
      } else if (c === "'" && sql[j] === '\\' && /[eE]/.test(sql[i - 1] ?? '')) j += 2;
      else j++;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  if (c === '$') {
    const tag = /^\$[A-Za-z_]?\w*\$/.exec(sql.slice(i, i + 64));
    if (tag && !/\w/.test(sql[i - 1] ?? '')) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? sql.length : end + tag[0].length;
    }
  }
  return i;
}

/** The statement without comments (for classifying it by its leading words). */
export function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
}

/** SQL with each single-quoted literal replaced by a placeholder, and the literals. */
export interface Masked {
  text: string;
  literals: string[];
}

/** Replace string literals by `\uE000N\uE000` so regular expressions only see code. */
export function maskLiterals(sql: string): Masked {
  const literals: string[] = [];
  let text = '';
  let i = 0;
  while (i < sql.length) {
    const end = skipQuoted(sql, i);
    if (end > i && sql[i] === "'") {
      literals.push(sql.slice(i, end));
      text += `\uE000${literals.length - 1}\uE000`;
      i = end;
    } else if (end > i) {
      text += sql.slice(i, end);
      i = end;
    } else {
      text += sql[i];
      i++;
    }
  }
  return { text, literals };
}

/** Put the literals back. */
export function unmask(m: Masked): string {
  return m.text.replace(/\uE000(\d+)\uE000/g, (_, n: string) => m.literals[Number(n)] ?? '');
}

/** The value of a masked literal placeholder (`'it''s'` → `it's`). */
export function literalValue(m: Masked, placeholder: string): string | undefined {
  const n = /^\uE000(\d+)\uE000$/.exec(placeholder)?.[1];
  const lit = n === undefined ? undefined : m.literals[Number(n)];
  return lit === undefined ? undefined : lit.slice(1, -1).replace(/''/g, "'");
}

/** A SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
