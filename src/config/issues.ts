import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { ConfigError, isSecretKey, redactText } from '../util/index.js';
import { pathKey } from './interpolate.js';
import { keysAt } from './schema-walk.js';
import { locate, type YamlSource } from './yaml-source.js';

/** One problem in one project file. */
export interface ConfigIssue {
  file: string;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
}

/** One ConfigError listing every issue, each on its own line; the first gives the position. */
export function issuesError(issues: readonly ConfigIssue[]): ConfigError {
  const [first, ...rest] = issues;
  if (!first) throw new Error('issuesError needs at least one issue');
  if (rest.length === 0)
    return new ConfigError(first.file, first.line, first.column, first.message, first.hint);
  const lines = [first.message + hintLine(first)];
  for (const issue of rest) lines.push(`${where(issue)}: ${issue.message}${hintLine(issue)}`);
  return new ConfigError(first.file, first.line, first.column, lines.join('\n'));
}

/** Sort issues of one file by position. */
export function byPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function where(issue: ConfigIssue): string {
  return issue.line ? `${issue.file}:${issue.line}${issue.column ? `:${issue.column}` : ''}` : issue.file;
}

function hintLine(issue: ConfigIssue): string {
  return issue.hint ? `\n  hint: ${issue.hint}` : '';
}

/** A key path for messages: `storage.cache.dir`, `tasks[0].id`. */
export function pathLabel(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out;
}

/** How a found value is shown: short, typed, and never a secret. */
export function describeFound(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (secret) return '"***" (a secret, not shown)';
  if (typeof value === 'string') {
    const text = redactText(value);
    return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  }
  return String(value);
}

/** Context for turning validation issues into positioned ones. */
export interface IssueContext {
  source: YamlSource;
  schema: z.ZodType;
  secretPaths?: ReadonlySet<string>;
  /** Maps a path of the validated value to its path in the document (environments). */
  toDocPath?: (path: PropertyKey[]) => PropertyKey[];
}

/** Positioned, readable issues for one zod issue. */
export function fromZodIssue(
  issue: z.core.$ZodIssue,
  ctx: IssueContext,
  base: PropertyKey[] = [],
): ConfigIssue[] {
  const path = [...base, ...issue.path];
  const docPath = (p: PropertyKey[]): PropertyKey[] => (ctx.toDocPath ? ctx.toDocPath(p) : p);
  const at = (
    p: PropertyKey[],
    mode: 'key' | 'value' = 'value',
  ): Pick<ConfigIssue, 'file' | 'line' | 'column'> => {
    const pos = locate(ctx.source, docPath(p), mode);
    return { file: ctx.source.file, line: pos.line, column: pos.column };
  };

  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(ctx.schema, path);
    const parent = pathLabel(docPath(path));
    return issue.keys.map((key) => {
      const suggestion = suggest(key, valid);
      const inside = parent ? ` in ${parent}` : '';
      return {
        ...at([...path, key], 'key'),
        message: `unknown key "${key}"${inside}${suggestion ? ` — did you mean "${suggestion}"?` : ''}`,
        hint: suggestion || valid.length === 0 ? undefined : `valid keys here: ${valid.join(', ')}`,
      };
    });
  }

  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    const parent = pathLabel(docPath(path.slice(0, -1)));
    const reason = issue.issues[0]?.message ?? issue.message;
    return [{ ...at(path, 'key'), message: `${parent ? `${parent}: ` : ''}invalid key "${key}": ${reason}` }];
  }

  if (issue.code === 'invalid_union') {
    const branch = matchingBranch(issue.errors);
    if (branch) return branch.flatMap((inner) => fromZodIssue(inner, ctx, path));
  }

  const label = pathLabel(docPath(path));
  const prefix = label ? `${label}: ` : '';
  const lastKey = path[path.length - 1];
  const secret =
    ctx.secretPaths?.has(pathKey(path)) === true || (typeof lastKey === 'string' && isSecretKey(lastKey));

  if (issue.code === 'invalid_type' && issue.input === undefined && path.length > 0) {
    const parent = path.slice(0, -1);
    return [
      {
        ...at(parent),
        message: `${pathLabel(docPath(parent)) ? `${pathLabel(docPath(parent))}: ` : ''}missing required key "${String(lastKey)}" (${issue.message})`,
      },
    ];
  }
  if (issue.code === 'custom' && secret) {
    return [{ ...at(path), message: `${prefix}invalid value (not shown: it holds a secret)` }];
  }
  const showFound = issue.message.startsWith('expected ') && !issue.message.includes(', found ');
  const found = showFound ? `, found ${describeFound(issue.input, secret)}` : '';
  const hint = issue.code === 'invalid_value' ? enumHint(issue.values, issue.input) : undefined;
  return [{ ...at(path), message: `${prefix}${issue.message}${found}`, hint }];
}

/** The closest valid key when it is close enough to be a typo (a transposition counts as one). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  const best = closest(
    lower,
    candidates.map((c) => c.toLowerCase()),
  );
  const match = candidates.find((c) => c.toLowerCase() === best);
  if (!match) return undefined;
  const anagram = [...lower].sort().join('') === [...best].sort().join('');
  return anagram || distance(lower, best) <= Math.max(1, Math.floor(best.length / 4)) ? match : undefined;
}

function enumHint(values: readonly unknown[], input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const guess = suggest(
    input,
    values.filter((v): v is string => typeof v === 'string'),
  );
  return guess ? `did you mean "${guess}"?` : undefined;
}

/** The branch of a union whose type matched, so its deeper issues are the useful ones. */
function matchingBranch(
  errors: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  const typed = errors.filter(
    (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  return typed.length === 1 ? typed[0] : undefined;
}

/** Default messages, phrased as "expected ..."; the formatter adds what was found. */
export const expectedMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${typeName(issue.expected)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `expected ${sizeOf(issue.origin)} ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `expected ${sizeOf(issue.origin)} ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return `expected ${issue.format === 'url' ? 'a URL' : issue.format === 'regex' ? 'a value matching the required pattern' : `a valid ${issue.format}`}`;
    case 'invalid_union':
      return `expected ${unionExpected(issue.errors)}`;
    case 'invalid_key':
      return 'expected a valid key';
    default:
      return undefined;
  }
};

function unionExpected(errors: readonly (readonly z.core.$ZodIssue[])[]): string {
  const names = errors.flatMap((b) =>
    b.filter((i) => i.code === 'invalid_type').map((i) => typeName(i.expected)),
  );
  return names.length > 0 ? [...new Set(names)].join(' or ') : 'a valid value';
}

function typeName(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'int':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

function sizeOf(origin: string): string {
  if (origin === 'string') return 'a string of length';
  if (origin === 'array' || origin === 'set') return 'a list of length';
  if (origin === 'int') return 'an integer';
  return 'a number';
}
