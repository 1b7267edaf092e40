import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml';
import type { ConfigIssue } from './issues.js';

export { displayPath, MAX_CONFIG_BYTES, readConfigText } from './read-text.js';

/** A parsed YAML file that still knows where every node came from. */
export interface YamlSource {
  /** The file name used in messages. */
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Where a path points in the document; `exact` is false when it stopped at a parent. */
export interface Located extends Position {
  exact: boolean;
}

/** Parse YAML text keeping positions; syntax errors come back as issues. */
export function parseYamlSource(text: string, file: string): { source: YamlSource; issues: ConfigIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source: YamlSource = { file, text, doc, lines };
  const issues: ConfigIssue[] = [];
  const seen = new Set<number>();
  for (const err of doc.errors) {
    // The parser often reports one mistake several times at one place: keep the first reason.
    if (seen.has(err.pos[0])) continue;
    seen.add(err.pos[0]);
    const at = lines.linePos(err.pos[0]);
    issues.push({
      file,
      line: at.line,
      column: at.col,
      ...syntaxMessage(err.code, err.message, text, err.pos),
    });
  }
  return { source, issues };
}

function syntaxMessage(
  code: string,
  reason: string,
  text: string,
  pos: [number, number],
): { message: string; hint?: string } {
  if (code === 'DUPLICATE_KEY') {
    const rest = text.slice(pos[0]);
    const end = rest.search(/:(\s|$)|\n/);
    const key = (end < 0 ? rest : rest.slice(0, end)).trim();
    return {
      message: `duplicate key "${key}"`,
      hint: 'a key may appear only once in a mapping: remove or merge the duplicate',
    };
  }
  if (code === 'MULTIPLE_DOCS') {
    return { message: 'the file holds several YAML documents (---); only one is allowed' };
  }
  return { message: `YAML syntax error: ${reason}` };
}

/** The position of `path` in the document (its value, or its key with `at: 'key'`). */
export function locate(
  source: YamlSource,
  path: readonly PropertyKey[],
  at: 'key' | 'value' = 'value',
): Located {
  const { doc } = source;
  let node: unknown = doc.contents;
  let best: Node | undefined = isNode(node) ? node : undefined;
  let exact = true;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) {
        exact = false;
        break;
      }
      const key = pair.key as Node;
      const value = pair.value;
      if (last && at === 'key') {
        best = key;
        break;
      }
      best = isNode(value) && !isEmptyScalar(value) ? value : key;
      node = value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      if (isNode(node)) best = node;
    } else {
      exact = false;
      break;
    }
  }
  const offset = best?.range?.[0] ?? 0;
  const pos = source.lines.linePos(offset);
  return { line: pos.line, column: pos.col, exact };
}

/** Where the `index`-th occurrence of `needle` is inside a node's source, else the node's start. */
export function positionInNode(source: YamlSource, node: Node, needle: string, index: number): Position {
  const [start = 0, end = start] = node.range ?? [];
  let at = start;
  let from = start;
  for (let n = 0; n <= index; n++) {
    const found = source.text.indexOf(needle, from);
    if (found < 0 || found >= end) {
      at = start;
      break;
    }
    at = found;
    from = found + needle.length;
  }
  const pos = source.lines.linePos(at);
  return { line: pos.line, column: pos.col };
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

function isEmptyScalar(value: Node): boolean {
  return isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1];
}
