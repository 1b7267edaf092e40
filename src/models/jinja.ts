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
  loaded ??= createRequire(import.meta.url)('nunjucks') as typeof Nunjucks;
  return loaded;
}

const NUNJUCKS_POSITION = /^\(([^)]*)\) \[Line (\d+), Column \d+\]\s*(?:Error: )?([\s\S]*)$/;

/** Renders the project's models, tests and macros. */
export class Renderer {
  readonly #env: Nunjucks.Environment;
  readonly #prefix: string;

  /** `macros`: macro names by file path relative to `dir`. */
  constructor(dir: string, macros: Map<string, string[]>, packages: Map<string, string> = new Map()) {
    const loader = {
      getSource(name: string) {
        return { src: readFileSync(join(dir, name), 'utf8'), path: name, noCache: true };
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
    let template: Nunjucks.Template;
    try {
      template = new (nunjucks().Template)(this.#prefix + raw, this.#env, file, true);
    } catch (err) {
      throw positioned(err, file, 0);
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
