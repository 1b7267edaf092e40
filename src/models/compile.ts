/**
 * Compile models and tests to the SQL the engine runs: refs become `schema.table`, ephemeral
 * models become CTEs of the models that use them, generic tests become queries returning the
 * failing rows.
 */
import { quoteIdent } from '../table/index.js';
import { Renderer } from './jinja.js';
import type { DataTest, ModelNode, ModelsProject } from './types.js';

/** The relation a model or seed builds: `schema.name`. */
export function relationOf(node: ModelNode): string {
  return `${node.schema}.${node.name}`;
}

function cteName(name: string): string {
  return `__dbt__cte__${name}`;
}

/** A SQL statement with its leading comments removed (for checking how it starts). */
function stripLeadingComments(sql: string): string {
  let s = sql.trimStart();
  for (;;) {
    if (s.startsWith('--')) s = s.slice(s.indexOf('\n') === -1 ? s.length : s.indexOf('\n') + 1).trimStart();
    else if (s.startsWith('/*'))
      s = s.slice(s.indexOf('*/') === -1 ? s.length : s.indexOf('*/') + 2).trimStart();
    else return s;
  }
}

/** `sql` with the CTEs prepended (merged into its own WITH if it has one). */
function withCtes(sql: string, ctes: [string, string][]): string {
  if (ctes.length === 0) return sql;
  const defs = ctes.map(([name, body]) => `${name} AS (\n${body}\n)`).join(',\n');
  const body = stripLeadingComments(sql);
  const m = /^with\s+(recursive\s+)?/i.exec(body);
  if (m) return `WITH ${m[1] ?? ''}${defs},\n${body.slice(m[0].length)}`;
  return `WITH ${defs}\n${body}`;
}

/** Compiles the nodes and tests of one project. */
export class Compiler {
  readonly project: ModelsProject;
  readonly #renderer: Renderer;

  constructor(project: ModelsProject) {
    this.project = project;
    this.#renderer = new Renderer(project.dir, project.macros, project.macroPackages);
  }

  /** The SELECT of a model (Jinja rendered, ephemeral refs inlined as CTEs). */
  compile(node: ModelNode, o: { isIncremental?: boolean } = {}): string {
    return this.#render(node.path, node.raw, relationOf(node), o.isIncremental ?? false);
  }

  /** The SQL of a hook: of a model (`{{ this }}` is the model), or of the run (`on-run-start`). */
  hook(sql: string, node?: ModelNode): string {
    const where = node ? node.path : 'dbt_project.yml';
    return this.#render(where, sql, node ? relationOf(node) : '', false);
  }

  #render(path: string, raw: string, self: string, isIncremental: boolean): string {
    const ctes: [string, string][] = [];
    const used = new Set<string>();
    const sql = this.#renderer.render(path, raw, {
      ref: (name) => {
        const target = this.project.nodes.get(name);
        if (!target) throw new Error(`ref('${name}'): no model or seed is named "${name}"`);
        if (target.config.materialized !== 'ephemeral' || target.kind === 'seed') return relationOf(target);
        if (!used.has(name)) {
          used.add(name);
          ctes.push([cteName(name), this.compile(target)]);
        }
        return cteName(name);
      },
      source: (s, t) => {
        const table = this.project.sources.get(`${s}.${t}`);
        if (!table)
          throw new Error(`source('${s}', '${t}'): no such table in the sources of the project's yml files`);
        return table.relation;
      },
      config: () => undefined,
      self,
      isIncremental,
      vars: this.project.vars,
      targetSchema: this.project.targetSchema,
    });
    return withCtes(sql.trim().replace(/;\s*$/, ''), ctes);
  }

  /** The relation a test's target names (a model, seed or source table). */
  #targetRelation(test: DataTest): string {
    const node = this.project.nodes.get(test.attachedTo);
    if (node) {
      if (node.config.materialized === 'ephemeral') return `(${this.compile(node)})`;
      return relationOf(node);
    }
    return this.project.sources.get(test.attachedTo)?.relation ?? test.attachedTo;
  }

  /** The query of a test: it returns the failing rows (none: the test passes). */
  testSql(test: DataTest): string {
    if (test.kind === 'singular') return this.#render(test.path, test.raw ?? '', '', false);
    const t = this.#targetRelation(test);
    const col = quoteIdent(test.column ?? '');
    switch (test.kind) {
      case 'not_null':
        return `SELECT * FROM ${t} WHERE ${col} IS NULL`;
      case 'unique':
        return `SELECT ${col} AS unique_field, count(*) AS n_records FROM ${t} WHERE ${col} IS NOT NULL GROUP BY ${col} HAVING count(*) > 1`;
      case 'accepted_values': {
        const quote = test.args.quote !== false;
        const values = (test.args.values as unknown[])
          .map((v) => (quote ? `'${String(v).replace(/'/g, "''")}'` : String(v)))
          .join(', ');
        return `SELECT ${col} AS value_field, count(*) AS n_records FROM ${t} WHERE ${col} IS NOT NULL AND ${col} NOT IN (${values}) GROUP BY ${col}`;
      }
      case 'relationships': {
        const source = test.parent?.source;
        const parent = this.project.nodes.get(test.parent?.ref ?? test.refs[0] ?? '');
        const to = source
          ? (this.project.sources.get(source)?.relation ?? source)
          : parent
            ? relationOf(parent)
            : '';
        const field = quoteIdent(String(test.args.field));
        return `SELECT child.* FROM ${t} AS child LEFT JOIN ${to} AS parent ON child.${col} = parent.${field} WHERE child.${col} IS NOT NULL AND parent.${field} IS NULL`;
      }
    }
  }
}
