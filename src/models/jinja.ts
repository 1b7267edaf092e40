/**
 * Jinja of dbt projects through nunjucks, with the shims dbt code needs: `ref`, `source`,
 * `config`, `this`, `is_incremental`, `var`, `env_var`, `target`, `log`, and the project's
 * macros callable by name from every model. Errors name the file and line.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Nunjucks from 'nunjucks';
import { InvalidInputError } from '../util/index.js';

/** What a template may call while it renders. */
export interface JinjaScope {
  ref(name: string): string;
  source(source: string, table: string): string;
  config(kw: Record<string, unknown>): void;
  /** The relation the model builds (`{{ this }}`). */
  self: string;
  isIncremental: boolean;
  vars: Record<string, unknown>;
  targetSchema: string;
}

/** A file of the project could not be rendered: the message starts with `path:line`. */
export class JinjaError extends InvalidInputError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    message: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${message}`);
  }
}

/** Nunjucks keyword arguments arrive as a last object flagged `__keywords`. */
function splitKeywords(args: unknown[]): { positional: unknown[]; kw: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords) {
    const { __keywords: _, ...kw } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), kw };
  }
  return { positional: args, kw: {} };
}

/** Nunjucks, loaded on first use: servers and the CLI start without it. */
let loaded: typeof Nunjucks | undefined;
function nunjucks(): typeof Nunjucks {
  if (!loaded) {
    loaded = createRequire(import.meta.url)('nunjucks') as typeof Nunjucks;
    allowTrailingCommas(loaded);
  }
  return loaded;
}

interface Token {
  type: string;
  lineno: number;
  colno: number;
}

/** The parts of nunjucks' parser that `parseSignature` uses (not in the typings). */
interface SignatureParser {
  peekToken(): Token;
  nextToken(): Token;
  skip(type: string): boolean;
  skipValue(type: string, value: string): boolean;
  parseExpression(): Token;
  fail(message: string, lineno: number, colno: number): never;
}

/**
 * Python's Jinja (dbt) accepts a trailing comma in call and macro arguments,
 * `{{ config(materialized='table', tags=['a',],) }}`, and in lists, dicts and tuples; nunjucks
 * does not. Its argument and aggregate parsers are replaced by ones that do, and are otherwise
 * the same: a missing comma, or a comma with nothing before it, is still a syntax error with
 * its line.
 */
function allowTrailingCommas(n: typeof Nunjucks): void {
  type Lexer = Record<
    | 'TOKEN_LEFT_PAREN'
    | 'TOKEN_RIGHT_PAREN'
    | 'TOKEN_LEFT_BRACKET'
    | 'TOKEN_RIGHT_BRACKET'
    | 'TOKEN_LEFT_CURLY'
    | 'TOKEN_RIGHT_CURLY'
    | 'TOKEN_BLOCK_END'
    | 'TOKEN_COMMA'
    | 'TOKEN_COLON'
    | 'TOKEN_OPERATOR',
    string
  >;
  type NodeClass = new (
    lineno: number,
    colno: number,
    ...rest: unknown[]
  ) => { children: unknown[]; addChild(c: unknown): void };
  const lib = n as unknown as {
    lexer: Lexer;
    nodes: Record<'NodeList' | 'KeywordArgs' | 'Pair' | 'Group' | 'Array' | 'Dict', NodeClass>;
    parser: { Parser: { prototype: { parseSignature: unknown; parseAggregate: unknown } } };
  };
  const { lexer: L, nodes } = lib;
  lib.parser.Parser.prototype.parseSignature = function parseSignature(
    this: SignatureParser,
    tolerant: boolean,
    noParens: boolean,
  ) {
    let tok = this.peekToken();
    if (!noParens && tok.type !== L.TOKEN_LEFT_PAREN) {
      if (tolerant) return null;
      this.fail('expected arguments', tok.lineno, tok.colno);
    }
    if (tok.type === L.TOKEN_LEFT_PAREN) tok = this.nextToken();
    const args = new nodes.NodeList(tok.lineno, tok.colno);
    const kwargs = new nodes.KeywordArgs(tok.lineno, tok.colno);
    const atEnd = () => {
      const next = this.peekToken();
      if (!noParens && next.type === L.TOKEN_RIGHT_PAREN) {
        this.nextToken();
        return true;
      }
      return noParens && next.type === L.TOKEN_BLOCK_END;
    };
    for (let first = true; !atEnd(); first = false) {
      if (!first) {
        const next = this.peekToken();
        if (!this.skip(L.TOKEN_COMMA))
          this.fail('expected a comma between arguments', next.lineno, next.colno);
        if (atEnd()) break; // the trailing comma
      }
      const arg = this.parseExpression();
      if (this.skipValue(L.TOKEN_OPERATOR, '='))
        kwargs.addChild(new nodes.Pair(arg.lineno, arg.colno, arg, this.parseExpression()));
      else args.addChild(arg);
    }
    if (kwargs.children.length) args.addChild(kwargs);
    return args;
  };
  const aggregates: Record<string, [NodeClass, string]> = {
    [L.TOKEN_LEFT_PAREN]: [nodes.Group, L.TOKEN_RIGHT_PAREN],
    [L.TOKEN_LEFT_BRACKET]: [nodes.Array, L.TOKEN_RIGHT_BRACKET],
    [L.TOKEN_LEFT_CURLY]: [nodes.Dict, L.TOKEN_RIGHT_CURLY],
  };
  lib.parser.Parser.prototype.parseAggregate = function parseAggregate(
    this: SignatureParser & { parsePrimary(): Token },
  ) {
    const open = this.nextToken();
    const kind = aggregates[open.type];
    if (!kind) return null;
    const [Node, close] = kind;
    const node = new Node(open.lineno, open.colno);
    const isDict = Node === nodes.Dict;
    for (let first = true; !this.skip(close); first = false) {
      if (!first && !this.skip(L.TOKEN_COMMA))
        this.fail('expected a comma between items', open.lineno, open.colno);
      if (!first && this.skip(close)) break; // the trailing comma
      if (!isDict) {
        node.addChild(this.parseExpression());
        continue;
      }
      const key = this.parsePrimary();
      if (!this.skip(L.TOKEN_COLON)) this.fail('expected a colon after a dict key', open.lineno, open.colno);
      node.addChild(new nodes.Pair(key.lineno, key.colno, key, this.parseExpression()));
    }
    return node;
  };
}

const NUNJUCKS_POSITION = /^\(([^)]*)\) \[Line (\d+), Column \d+\]\s*(?:Error: )?([\s\S]*)$/;

/** Renders the project's models, tests and macros. */
export class Renderer {
  readonly #env: Nunjucks.Environment;
  readonly #prefix: string;
  /** Compiled templates by file and text: a model renders several times in one build. */
  readonly #templates = new Map<string, Nunjucks.Template>();

  /** `macros`: macro names by file path relative to `dir`. */
  constructor(dir: string, macros: Map<string, string[]>, packages: Map<string, string> = new Map()) {
    const loader = {
      getSource(name: string) {
        // Macro files are read and compiled once per renderer (one build or compile run).
        return { src: readFileSync(join(dir, name), 'utf8'), path: name, noCache: false };
      },
    };
    this.#env = new (nunjucks().Environment)(loader as unknown as Nunjucks.ILoader, {
      autoescape: false,
      throwOnUndefined: false,
    });
    // dbt code writes `x is none`; the typings lack addTest.
    (this.#env as unknown as { addTest(n: string, f: (v: unknown) => boolean): void }).addTest(
      'none',
      (v) => v === null || v === undefined,
    );
    // Imports go on the template's first line so line numbers stay those of the file.
    this.#prefix = [...macros]
      .filter(([, names]) => names.length > 0)
      .map(([file, names]) => `{% from ${JSON.stringify(file)} import ${names.join(', ')} with context %}`)
      .join('');
    // A package's macros are also called by the package's name: `dbt_utils.star(...)`.
    const byPackage = new Map<string, string[]>();
    for (const [file, pkg] of packages)
      byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), ...(macros.get(file) ?? [])]);
    for (const [pkg, names] of byPackage)
      this.#prefix += `{% set ${pkg} = {${names.map((n) => `${JSON.stringify(n)}: ${n}`).join(', ')}} %}`;
  }

  /**
   * Render `raw` (the text of `file`) with the dbt functions of `scope`.
   * @throws JinjaError naming the file and line of a syntax error, an unknown ref or macro.
   */
  render(file: string, raw: string, scope: JinjaScope): string {
    const key = `${file}\0${raw}`;
    let template = this.#templates.get(key);
    if (!template) {
      try {
        template = new (nunjucks().Template)(this.#prefix + raw, this.#env, file, true);
      } catch (err) {
        throw positioned(err, file, 0);
      }
      this.#templates.set(key, template);
    }
    try {
      return template.render(contextOf(scope));
    } catch (err) {
      // Nunjucks counts runtime lines from 0 and parse lines from 1.
      throw positioned(err, file, 1);
    }
  }
}

function positioned(err: unknown, file: string, lineOffset: number): JinjaError {
  if (err instanceof JinjaError) return err;
  const text = err instanceof Error ? err.message.replace(/^Template render error: /, '') : String(err);
  const m = NUNJUCKS_POSITION.exec(text.trim());
  if (!m) return new JinjaError(file, undefined, text);
  const message = (m[3] ?? '')
    .replace(/(Template render error: \([^)\n]*\)|\([^)\n]*\) \[Line \d+, Column \d+\])\s*/g, '')
    .trim()
    .replace(/^(Error: )+/, '')
    .replace(/which is undefined or falsey/, 'which is no macro of the project nor a dbt function');
  return new JinjaError(m[1] || file, Number(m[2]) + lineOffset, message);
}

function envVar(name: unknown, fallback?: unknown): string {
  const value = process.env[String(name)];
  if (value !== undefined) return value;
  if (fallback !== undefined) return String(fallback);
  throw new Error(`env_var('${String(name)}'): the environment variable is not set and no default is given`);
}

function contextOf(scope: JinjaScope): Record<string, unknown> {
  return {
    ref: (...args: unknown[]) => {
      const { positional } = splitKeywords(args);
      // ref('package', 'model') names the model last.
      return scope.ref(String(positional[positional.length - 1]));
    },
    source: (s: unknown, t: unknown) => scope.source(String(s), String(t)),
    config: (...args: unknown[]) => {
      scope.config(splitKeywords(args).kw);
      return '';
    },
    this: {
      toString: () => scope.self,
      identifier: scope.self.split('.').pop(),
      schema: scope.self.split('.')[0],
    },
    is_incremental: () => scope.isIncremental,
    var: (name: unknown, fallback?: unknown) => {
      const key = String(name);
      if (key in scope.vars) return scope.vars[key];
      if (fallback !== undefined) return fallback;
      throw new Error(`var('${key}'): not set in dbt_project.yml vars and no default is given`);
    },
    env_var: envVar,
    target: { name: 'sluice', schema: scope.targetSchema, type: 'duckdb', database: 'sluice' },
    log: () => '',
    run_started_at: new Date().toISOString(),
  };
}

/** Names of the `{% macro name(...) %}` definitions in a file's text. */
export function macroNames(text: string): string[] {
  return [...text.matchAll(/\{%-?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
}
