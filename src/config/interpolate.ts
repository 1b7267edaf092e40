import { isAlias, isMap, isPair, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { isSecretKey } from '../util/index.js';
import type { ConfigIssue } from './issues.js';
import { positionInNode, type YamlSource } from './yaml-source.js';

/** Environment variables as read by interpolation. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What interpolation did to a document. */
export interface Interpolation {
  issues: ConfigIssue[];
  /** Paths (joined with `\u0000`) whose value is or came from a secret: never echo them. */
  secretPaths: Set<string>;
  /** Paths whose value could not be interpolated: validation issues there are noise. */
  failedPaths: Set<string>;
  /** Some value holds `${`: the result depends on the environment variables. */
  referencesVariables?: boolean;
}

/** The key used to compare paths. */
export function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('\u0000');
}

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string scalar value (never in keys);
 * `$${` stands for a literal `${`. Plain scalars are retyped after substitution, so
 * `port: ${PORT}` gives a number while `port: "${PORT}"` stays a string.
 */
export function interpolateDocument(source: YamlSource, env: Env): Interpolation {
  const result: Interpolation = { issues: [], secretPaths: new Set(), failedPaths: new Set() };
  walk(source, source.doc.contents, [], env, result);
  return result;
}

function walk(source: YamlSource, node: unknown, path: PropertyKey[], env: Env, out: Interpolation): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      walk(source, pair.value, [...path, key], env, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      walk(source, item, [...path, i], env, out);
    });
  } else if (isScalar(node) && !isAlias(node) && typeof node.value === 'string') {
    interpolateScalar(source, node as Scalar<string>, path, env, out);
  }
}

const NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

function interpolateScalar(
  source: YamlSource,
  node: Scalar<string>,
  path: PropertyKey[],
  env: Env,
  out: Interpolation,
): void {
  const text = node.value;
  if (!text.includes('${')) return;
  out.referencesVariables = true;
  const lastKey = path[path.length - 1];
  let secret = typeof lastKey === 'string' && isSecretKey(lastKey);
  let result = '';
  let substituted = false;
  let failed = false;
  let refIndex = 0;
  const fail = (message: string, hint: string): void => {
    const at = positionInNode(source, node as Node, '${', refIndex);
    out.issues.push({ file: source.file, line: at.line, column: at.column, message, hint });
    failed = true;
  };
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      result += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      result += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      fail(
        `unterminated variable reference "${clip(text.slice(i))}"`,
        'close it with "}", or write $${ for a literal ${',
      );
      break;
    }
    const inner = text.slice(i + 2, close);
    const match = NAME.exec(inner);
    if (!match) {
      fail(
        `invalid variable reference "\${${clip(inner)}}"`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
        'write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
      );
    } else {
      const [, name = '', fallback] = match;
      if (isSecretKey(name)) secret = true;
      const value = env[name];
      if (value !== undefined && (value !== '' || fallback === undefined)) result += value;
      else if (fallback !== undefined) result += fallback;
      else
        fail(
          `environment variable ${name} is not set`,
          `set ${name}, or give a default with \${${name}:-default}`,
        );
      substituted = true;
    }
    refIndex += 1;
    i = close + 1;
  }
  const key = pathKey(path);
  if (secret) out.secretPaths.add(key);
  if (failed) {
    out.failedPaths.add(key);
    node.value = '';
    return;
  }
  (node as Scalar<unknown>).value = substituted && node.type === 'PLAIN' ? retype(result) : result;
}

/** The YAML core-schema reading of a plain scalar's text (bool, int, float), else the text. */
function retype(text: string): unknown {
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number.parseFloat(text);
  return text;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
