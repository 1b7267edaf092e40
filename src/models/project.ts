/**
 * Load a dbt project: dbt_project.yml, models/**\/*.sql (Jinja), models/**\/*.yml (schema.yml:
 * docs, tests, sources), seeds/*.csv, macros/*.sql and tests/*.sql.
 *
 * Namespaces follow dbt's `generate_schema_name`: a model lands in `<target>.<model>`, or in
 * `<target>_<custom>.<model>` when its config (or folder config) sets `schema: custom`. The
 * target schema is the project's name unless the caller gives one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InvalidInputError } from '../util/index.js';
import { JinjaError, macroNames, Renderer } from './jinja.js';
import type {
  ColumnDoc,
  DataTest,
  Freshness,
  Materialization,
  ModelConfig,
  ModelNode,
  ModelsProject,
  PiiMasking,
  SourceTable,
} from './types.js';

/** Options of `loadModelsProject`. */
export interface LoadOptions {
  /** Schema of models without a custom schema (default: the project's name). */
  targetSchema?: string;
  /** The Sluice environment (`--env`): other than prod, it prefixes the target schema. */
  environment?: string;
  /** Overrides of dbt_project.yml `vars`. */
  vars?: Record<string, unknown>;
}

type Yaml = Record<string, unknown>;

const MATERIALIZATIONS = new Set<Materialization>(['table', 'view', 'incremental', 'ephemeral']);
/** Config keys Sluice reads; dbt_project.yml may give them without `+` (a `+` is always a config). */
const CONFIG_KEYS = new Set([
  'materialized',
  'unique_key',
  'schema',
  'tags',
  'enabled',
  'strategy',
  'updated_at',
  'check_cols',
  'target_schema',
  'pre-hook',
  'pre_hook',
  'post-hook',
  'post_hook',
]);

function isObject(v: unknown): v is Yaml {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readYaml(dir: string, path: string): Yaml {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(join(dir, path), 'utf8'));
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new JinjaError(path, line, `invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new JinjaError(path, 1, 'expected a mapping at the top level');
  return doc;
}

/** Files under `dir/sub` with extension `ext`, as paths relative to `dir` with `/` separators, sorted. */
function filesUnder(dir: string, sub: string, ext: string): string[] {
  const root = join(dir, sub);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.toLowerCase().endsWith(ext)) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

function pathList(value: unknown, fallback: string): string[] {
  if (value === undefined) return [fallback];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => String(v).replace(/\/+$/, ''));
}

/**
 * The target schema of an environment: the project name for `prod`/`production` (or none),
 * `<env>_<project name>` for the others, so `--env dev` builds never touch prod tables.
 */
export function environmentSchema(projectName: string, environment?: string): string | undefined {
  if (!environment || /^prod(uction)?$/i.test(environment)) return undefined;
  return schemaName(`${environment}_${projectName}`);
}

/** A schema name Sluice accepts as a namespace: lower case letters, digits, `_`. */
export function schemaName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Merge one config layer (dbt_project.yml `+key`, yml `config:`, `{{ config() }}`) into `into`. */
function applyConfig(into: ModelConfig, layer: Yaml, where: string): void {
  for (const [rawKey, value] of Object.entries(layer)) {
    const key = rawKey.replace(/^\+/, '');
    switch (key) {
      case 'materialized': {
        const m = String(value) as Materialization;
        if (!MATERIALIZATIONS.has(m))
          throw new InvalidInputError(
            `${where}: materialized "${String(value)}" is not supported`,
            `use one of ${[...MATERIALIZATIONS].join(', ')}`,
          );
        into.materialized = m;
        break;
      }
      case 'unique_key':
        into.uniqueKey = strings(value).flatMap((k) => k.split(',').map((s) => s.trim()));
        break;
      case 'schema':
        into.schema = value === null ? undefined : String(value);
        break;
      case 'tags':
        into.tags = [...new Set([...into.tags, ...strings(value)])];
        break;
      case 'enabled':
        into.enabled = value !== false;
        break;
      case 'strategy': {
        const strategy = String(value);
        if (strategy !== 'timestamp' && strategy !== 'check')
          throw new InvalidInputError(
            `${where}: snapshot strategy "${strategy}" is not supported`,
            'use timestamp or check',
          );
        into.snapshot = { ...(into.snapshot ?? {}), strategy };
        break;
      }
      case 'updated_at':
        into.snapshot = { strategy: 'timestamp', ...(into.snapshot ?? {}), updatedAt: String(value) };
        break;
      case 'check_cols':
        into.snapshot = {
          strategy: 'check',
          ...(into.snapshot ?? {}),
          checkCols: value === 'all' ? 'all' : strings(value),
        };
        break;
      case 'target_schema':
        into.targetSchema = String(value);
        break;
      case 'pre-hook':
      case 'pre_hook':
        into.preHooks = [...into.preHooks, ...hooksOf(value, where)];
        break;
      case 'post-hook':
      case 'post_hook':
        into.postHooks = [...into.postHooks, ...hooksOf(value, where)];
        break;
      default:
        // Other dbt configs (partition_by, docs, ...) do not change how Sluice builds.
        break;
    }
  }
}

/**
 * The `{% snapshot name %} ... {% endsnapshot %}` blocks of a file. Text outside the blocks
 * is blanked (newlines kept) so Jinja errors point to the file's own lines.
 */
function snapshotBlocks(text: string, path: string): { name: string; raw: string }[] {
  const out: { name: string; raw: string }[] = [];
  const re = /\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}([\s\S]*?)\{%-?\s*endsnapshot\s*-?%\}/g;
  for (const m of text.matchAll(re)) {
    const before = text.slice(0, (m.index ?? 0) + m[0].indexOf('%}') + 2).replace(/[^\n]/g, '');
    out.push({ name: m[1] as string, raw: before + (m[2] as string) });
  }
  if (out.length === 0)
    throw new InvalidInputError(`${path}: no {% snapshot name %} ... {% endsnapshot %} block`);
  return out;
}

/** A snapshot needs a unique_key and a strategy with its column(s). */
function checkSnapshot(node: ModelNode): void {
  const s = node.config.snapshot;
  if (!node.config.uniqueKey?.length)
    throw new InvalidInputError(`${node.path}: snapshot ${node.name} needs a unique_key`);
  if (!s)
    throw new InvalidInputError(`${node.path}: snapshot ${node.name} needs strategy='timestamp' or 'check'`);
  if (s.strategy === 'timestamp' && !s.updatedAt)
    throw new InvalidInputError(
      `${node.path}: snapshot ${node.name} with strategy='timestamp' needs updated_at`,
    );
  if (s.strategy === 'check' && !s.checkCols)
    throw new InvalidInputError(`${node.path}: snapshot ${node.name} with strategy='check' needs check_cols`);
}

/** Hook SQL of a config value: a string, `{sql: ...}`, or a list of them. */
function hooksOf(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  return list.map((h) => {
    if (typeof h === 'string') return h;
    if (isObject(h) && typeof h.sql === 'string') return h.sql;
    throw new InvalidInputError(
      `${where}: a hook must be SQL text or {sql: ...}`,
      'e.g. post-hook: "analyze {{ this }}"',
    );
  });
}

/**
 * Macro files of the packages `packages.yml` (or `dependencies.yml`) lists, which must be
 * vendored under `dbt_packages/` (Sluice does not download them).
 * @throws InvalidInputError naming the file when a listed package is not vendored.
 */
function packageMacroFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of ['packages.yml', 'dependencies.yml']) {
    if (!existsSync(join(dir, file))) continue;
    const conf = readYaml(dir, file);
    const list = Array.isArray(conf.packages) ? conf.packages : [];
    for (const entry of list) {
      if (!isObject(entry)) continue;
      const spec = String(entry.package ?? entry.git ?? entry.local ?? entry.tarball ?? entry.name ?? '');
      const installed = packageDirName(dir, spec);
      if (!installed)
        throw new InvalidInputError(
          `${file}: package "${spec}" is not in dbt_packages/, and Sluice does not download packages (no network access)`,
          'run `dbt deps` on a machine with network access and copy its dbt_packages/ directory next to dbt_project.yml',
        );
      const pkgDir = join('dbt_packages', installed);
      const conf2 = existsSync(join(dir, pkgDir, 'dbt_project.yml'))
        ? readYaml(join(dir, pkgDir), 'dbt_project.yml')
        : {};
      const pkgName = typeof conf2.name === 'string' ? conf2.name : installed;
      for (const m of pathList(conf2['macro-paths'], 'macros'))
        for (const f of filesUnder(dir, join(pkgDir, m), '.sql')) out.set(f, pkgName);
    }
  }
  return out;
}

/** The directory under dbt_packages/ of a package spec (`dbt-labs/dbt_utils`, a git URL, a path), if there. */
function packageDirName(dir: string, spec: string): string | undefined {
  const last =
    spec
      .replace(/\.git$/, '')
      .replace(/\/+$/, '')
      .split(/[/:]/)
      .pop() ?? '';
  for (const candidate of [last, last.replace(/-/g, '_')])
    if (candidate && existsSync(join(dir, 'dbt_packages', candidate))) return candidate;
  return undefined;
}

/**
 * The configs of a dbt_project.yml block without its sub-paths: `+key` entries, and the
 * config keys dbt also takes unprefixed when their value is no mapping (a mapping under an
 * unprefixed key is a folder or model of that name).
 */
function ownConfig(block: Yaml): Yaml {
  const out: Yaml = {};
  for (const [k, v] of Object.entries(block)) {
    if (k.startsWith('+') || (CONFIG_KEYS.has(k) && !isObject(v))) out[k] = v;
  }
  return out;
}

/**
 * dbt_project.yml configs of a resource, applied from the least to the most specific so the
 * nearest wins (tags and hooks add up): configs directly under `models:` (all models), the
 * project's block, then each folder of the resource path and the resource's own name.
 */
function folderConfig(root: unknown, projectName: string, path: string[], into: ModelConfig): void {
  if (!isObject(root)) return;
  applyConfig(into, ownConfig(root), 'dbt_project.yml');
  let block: unknown = root[projectName];
  for (const segment of [undefined, ...path]) {
    if (segment !== undefined) block = (block as Yaml)[segment];
    if (!isObject(block)) return;
    applyConfig(into, ownConfig(block), 'dbt_project.yml');
  }
}

/** dbt's resource path of a file under `root`: its folders, then its name without extension. */
function resourcePath(root: string, path: string): string[] {
  const parts = path.slice(root.length + 1).split('/');
  const file = parts.pop() ?? '';
  return [...parts, basename(file, extname(file))];
}

function durationSeconds(v: unknown, where: string): number | undefined {
  if (!isObject(v)) return undefined;
  const count = Number(v.count);
  const units: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };
  const unit = units[String(v.period)];
  if (!Number.isFinite(count) || unit === undefined)
    throw new InvalidInputError(`${where}: freshness expects { count: N, period: minute|hour|day }`);
  return count * unit;
}

function freshnessOf(v: unknown, inherited: Freshness | undefined, where: string): Freshness | undefined {
  if (v === null) return undefined;
  if (!isObject(v)) return inherited;
  return {
    warnAfterSeconds: durationSeconds(v.warn_after, where) ?? inherited?.warnAfterSeconds,
    errorAfterSeconds: durationSeconds(v.error_after, where) ?? inherited?.errorAfterSeconds,
  };
}

function columnsOf(v: unknown, where: string): ColumnDoc[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObject).map((c) => {
    const doc: ColumnDoc = {
      name: String(c.name),
      description: c.description === undefined ? undefined : String(c.description),
    };
    const pii = piiOf(c, `${where}: column ${String(c.name)}`);
    if (pii) doc.pii = pii;
    return doc;
  });
}

const PII_METHODS: readonly PiiMasking[] = ['hash', 'redact', 'null'];

/**
 * A column's PII tag: `meta: {pii: true | hash | redact | null}` or `tags: [pii]`, at the
 * column or under its `config:` (dbt 1.10 style). `pii: false` in meta wins over a tag.
 * @throws InvalidInputError for another meta value
 */
function piiOf(c: Record<string, unknown>, where: string): PiiMasking | undefined {
  const places = [c, isObject(c.config) ? c.config : {}];
  let tagged = false;
  for (const place of places) {
    const meta = isObject(place.meta) ? place.meta : {};
    if (meta.pii === false) return undefined;
    if (meta.pii === true) tagged = true;
    else if (meta.pii !== undefined) {
      if (!(PII_METHODS as readonly unknown[]).includes(meta.pii))
        throw new InvalidInputError(
          `${where}: meta.pii must be true, false or a masking method (${PII_METHODS.join(', ')}), found ${JSON.stringify(meta.pii)}`,
        );
      return meta.pii as PiiMasking;
    }
    if (Array.isArray(place.tags) && place.tags.includes('pii')) tagged = true;
  }
  return tagged ? 'default' : undefined;
}

const GENERIC = new Set(['not_null', 'unique', 'accepted_values', 'relationships']);

/** A readable test name: `<kind>_<target>_<column>[_<detail>]`. */
function testName(kind: string, target: string, column: string | undefined, detail?: string): string {
  const base = schemaName([kind, target.replace('.', '_'), column, detail].filter(Boolean).join('_'));
  return base.length <= 60 ? base : `${base.slice(0, 51)}_${hash(base)}`;
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The generic tests of a column (or a model's `tests:`), as schema.yml lists them. */
function genericTests(list: unknown, target: string, column: string | undefined, path: string): DataTest[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry) => {
    let kind: string;
    let args: Yaml = {};
    if (typeof entry === 'string') kind = entry;
    else if (isObject(entry) && Object.keys(entry).length === 1) {
      kind = Object.keys(entry)[0] as string;
      const v = entry[kind];
      args = isObject(v) ? v : {};
    } else throw new InvalidInputError(`${path}: a test of ${target} is neither a name nor { name: {args} }`);
    if (!GENERIC.has(kind))
      throw new InvalidInputError(
        `${path}: unknown test "${kind}" on ${target}${column ? `.${column}` : ''}`,
        `generic tests: ${[...GENERIC].join(', ')}; write others as singular tests in tests/*.sql`,
      );
    const config = isObject(args.config) ? args.config : {};
    const severity = String(config.severity ?? args.severity ?? 'error').toLowerCase();
    if (severity !== 'warn' && severity !== 'error')
      throw new InvalidInputError(`${path}: severity of ${kind} on ${target} must be warn or error`);
    const column_ = (args.column_name as string | undefined) ?? column;
    let detail: string | undefined;
    const refs: string[] = [];
    if (kind === 'accepted_values') {
      if (!Array.isArray(args.values))
        throw new InvalidInputError(`${path}: accepted_values on ${target}.${column_} needs values: [...]`);
      detail = args.values.join('_');
    }
    let parent: DataTest['parent'];
    if (kind === 'relationships') {
      parent = relationshipParent(args.to);
      if (!parent || !args.field)
        throw new InvalidInputError(
          `${path}: relationships on ${target}.${column_} needs to: ref('model') or source('source', 'table'), and field: column`,
          `found to: ${JSON.stringify(args.to ?? null)}`,
        );
      if (parent.ref) refs.push(parent.ref);
      detail = `${(parent.ref ?? parent.source ?? '').replace('.', '_')}_${String(args.field)}`;
    }
    if (
      !column_ &&
      kind !== 'relationships' &&
      kind !== 'accepted_values' &&
      kind !== 'not_null' &&
      kind !== 'unique'
    )
      throw new InvalidInputError(`${path}: test ${kind} on ${target} needs a column`);
    if (!column_) throw new InvalidInputError(`${path}: test ${kind} on ${target} needs column_name`);
    return {
      name: testName(kind, target, column_, detail),
      kind: kind as DataTest['kind'],
      attachedTo: target,
      column: column_,
      severity,
      refs,
      path,
      args,
      ...(parent ? { parent } : {}),
    };
  });
}

/** The parent of a `relationships` test: `to: ref('model')` or `to: source('source', 'table')`. */
function relationshipParent(to: unknown): DataTest['parent'] {
  const text = String(to ?? '')
    .trim()
    .replace(/^\{\{\s*(.*?)\s*\}\}$/s, '$1');
  const q = `\\s*['"]([^'"]+)['"]\\s*`;
  const ref = new RegExp(`^ref\\((?:${q},)?${q}\\)$`).exec(text);
  if (ref) return { ref: ref[2] as string };
  const source = new RegExp(`^source\\(${q},${q}\\)$`).exec(text);
  if (source) return { source: `${source[1]}.${source[2]}` };
  return undefined;
}

/**
 * Load the dbt project in `dir` (the directory holding dbt_project.yml).
 * @throws InvalidInputError / JinjaError naming the file (and line) at fault; a ref cycle.
 */
export function loadModelsProject(dir: string, o: LoadOptions = {}): ModelsProject {
  if (!existsSync(join(dir, 'dbt_project.yml')))
    throw new InvalidInputError(
      `no dbt_project.yml in ${dir}`,
      'create one (name: my_project) or point Sluice at the dbt project with --dir',
    );
  const conf = readYaml(dir, 'dbt_project.yml');
  if (typeof conf.name !== 'string' || !conf.name)
    throw new InvalidInputError('dbt_project.yml: name is required');
  const name = conf.name;
  const targetSchema = schemaName(o.targetSchema ?? environmentSchema(name, o.environment) ?? name);
  if (!targetSchema) throw new InvalidInputError(`"${o.targetSchema ?? name}" is no usable schema name`);
  const vars = { ...(isObject(conf.vars) ? conf.vars : {}), ...(o.vars ?? {}) };
  const modelPaths = pathList(conf['model-paths'] ?? conf['source-paths'], 'models');
  const seedPaths = pathList(conf['seed-paths'] ?? conf['data-paths'], 'seeds');
  const macroPaths = pathList(conf['macro-paths'], 'macros');
  const testPaths = pathList(conf['test-paths'], 'tests');
  const snapshotPaths = pathList(conf['snapshot-paths'], 'snapshots');

  const macros = new Map<string, string[]>();
  const macroOwner = new Map<string, string>();
  for (const p of macroPaths.flatMap((m) => filesUnder(dir, m, '.sql'))) {
    const names = macroNames(readFileSync(join(dir, p), 'utf8'));
    for (const n of names) {
      const other = macroOwner.get(n);
      if (other) throw new InvalidInputError(`${p}: macro "${n}" is also defined in ${other}`);
      macroOwner.set(n, p);
    }
    macros.set(p, names);
  }
  // Package macros: the project's own macros of the same name win.
  const macroPackages = packageMacroFiles(dir);
  for (const p of macroPackages.keys()) {
    const names = macroNames(readFileSync(join(dir, p), 'utf8')).filter((n) => !macroOwner.has(n));
    for (const n of names) macroOwner.set(n, p);
    macros.set(p, names);
  }
  const onRunStart = hooksOf(conf['on-run-start'], 'dbt_project.yml on-run-start');
  const onRunEnd = hooksOf(conf['on-run-end'], 'dbt_project.yml on-run-end');

  const nodes = new Map<string, ModelNode>();
  const add = (node: ModelNode) => {
    const other = nodes.get(node.name);
    if (other)
      throw new InvalidInputError(
        `${node.path}: "${node.name}" is also defined by ${other.path}`,
        'model and seed names are unique in a project',
      );
    nodes.set(node.name, node);
  };
  const baseConfig = (): ModelConfig => ({
    materialized: 'view',
    tags: [],
    enabled: true,
    preHooks: [],
    postHooks: [],
  });
  for (const root of modelPaths) {
    for (const p of filesUnder(dir, root, '.sql')) {
      const config = baseConfig();
      folderConfig(conf.models, name, resourcePath(root, p), config);
      add({
        kind: 'model',
        name: basename(p, extname(p)),
        path: p,
        raw: readFileSync(join(dir, p), 'utf8'),
        config,
        refs: [],
        sources: [],
        schema: '',
        columns: [],
      });
    }
  }
  for (const root of snapshotPaths) {
    for (const p of filesUnder(dir, root, '.sql')) {
      const text = readFileSync(join(dir, p), 'utf8');
      for (const block of snapshotBlocks(text, p)) {
        const config = { ...baseConfig(), materialized: 'snapshot' as const };
        folderConfig(conf.snapshots, name, [...resourcePath(root, p).slice(0, -1), block.name], config);
        add({
          kind: 'model',
          name: block.name,
          path: p,
          raw: block.raw,
          config,
          refs: [],
          sources: [],
          schema: '',
          columns: [],
        });
      }
    }
  }
  for (const root of seedPaths) {
    for (const p of filesUnder(dir, root, '.csv')) {
      const config = { ...baseConfig(), materialized: 'table' as const };
      folderConfig(conf.seeds, name, resourcePath(root, p), config);
      add({
        kind: 'seed',
        name: basename(p, extname(p)),
        path: p,
        raw: '',
        config,
        refs: [],
        sources: [],
        schema: '',
        columns: [],
      });
    }
  }

  // schema.yml files: docs, configs and tests of models and seeds; sources.
  const sources = new Map<string, SourceTable>();
  const tests: DataTest[] = [];
  for (const p of [...modelPaths, ...seedPaths].flatMap((r) => [
    ...filesUnder(dir, r, '.yml'),
    ...filesUnder(dir, r, '.yaml'),
  ])) {
    const doc = readYaml(dir, p);
    for (const key of ['models', 'seeds'] as const) {
      for (const entry of Array.isArray(doc[key]) ? doc[key].filter(isObject) : []) {
        const node = nodes.get(String(entry.name));
        if (!node)
          throw new InvalidInputError(
            `${p}: ${key} entry "${String(entry.name)}" names no ${key === 'models' ? 'model' : 'seed'} of the project`,
          );
        if (entry.description !== undefined) node.description = String(entry.description);
        node.columns = columnsOf(entry.columns, `${p}: ${key} ${node.name}`);
        if (isObject(entry.config)) applyConfig(node.config, entry.config, p);
        tests.push(...genericTests(entry.tests ?? entry.data_tests, node.name, undefined, p));
        for (const c of Array.isArray(entry.columns) ? entry.columns.filter(isObject) : [])
          tests.push(...genericTests(c.tests ?? c.data_tests, node.name, String(c.name), p));
      }
    }
    for (const s of Array.isArray(doc.sources) ? doc.sources.filter(isObject) : []) {
      const sourceName = String(s.name);
      const schema = String(s.schema ?? sourceName);
      const where = `${p}: source ${sourceName}`;
      const sourceFreshness = freshnessOf(s.freshness, undefined, where);
      for (const t of Array.isArray(s.tables) ? s.tables.filter(isObject) : []) {
        const id = `${sourceName}.${String(t.name)}`;
        const table: SourceTable = {
          id,
          source: sourceName,
          name: String(t.name),
          relation: `${schema}.${String(t.identifier ?? t.name)}`,
          description: t.description === undefined ? undefined : String(t.description),
          columns: columnsOf(t.columns, `${where}.${String(t.name)}`),
          loadedAtField: (t.loaded_at_field ?? s.loaded_at_field) as string | undefined,
          freshness: freshnessOf(t.freshness, sourceFreshness, where),
          path: p,
        };
        sources.set(id, table);
        tests.push(...genericTests(t.tests ?? t.data_tests, id, undefined, p));
        for (const c of Array.isArray(t.columns) ? t.columns.filter(isObject) : [])
          tests.push(...genericTests(c.tests ?? c.data_tests, id, String(c.name), p));
      }
    }
  }
  for (const t of tests) {
    for (const r of t.refs)
      if (!nodes.has(r)) throw new InvalidInputError(`${t.path}: test ${t.name} refs unknown model "${r}"`);
    const parentSource = t.parent?.source;
    if (parentSource && !sources.has(parentSource))
      throw new InvalidInputError(
        `${t.path}: test ${t.name} reads source "${parentSource}", which no sources: entry of the project's yml files declares`,
      );
  }

  const project: ModelsProject = {
    dir,
    name,
    targetSchema,
    nodes,
    sources,
    tests,
    macros,
    macroPackages,
    vars,
    onRunStart,
    onRunEnd,
  };
  const renderer = new Renderer(dir, macros, macroPackages);
  // Render each model once to learn its refs, sources and `{{ config() }}`.
  for (const node of nodes.values()) {
    if (node.kind === 'model') parseModel(project, renderer, node);
    node.schema = node.config.schema ? schemaName(`${targetSchema}_${node.config.schema}`) : targetSchema;
    if (node.config.materialized === 'snapshot') {
      if (node.config.targetSchema) node.schema = schemaName(node.config.targetSchema);
      checkSnapshot(node);
    }
  }
  for (const [name, node] of [...nodes]) if (!node.config.enabled) nodes.delete(name);
  for (const node of nodes.values()) {
    for (const r of node.refs)
      if (!nodes.has(r))
        throw new InvalidInputError(
          `${node.path}: ref('${r}') names a disabled model`,
          `enable ${r} or drop the ref`,
        );
  }
  for (const p of testPaths.flatMap((r) => filesUnder(dir, r, '.sql'))) {
    const raw = readFileSync(join(dir, p), 'utf8');
    const refs: string[] = [];
    const sourcesRead: string[] = [];
    renderer.render(
      p,
      raw,
      parseScope(project, p, refs, sourcesRead, () => undefined),
    );
    tests.push({
      name: schemaName(basename(p, '.sql')),
      kind: 'singular',
      attachedTo: refs[0] ?? sourcesRead[0] ?? '',
      severity: 'error',
      refs,
      path: p,
      args: {},
      raw,
    });
  }
  checkCycles(nodes);
  return project;
}

/** Scope of the parse render: refs and sources are recorded; relations are placeholders. */
function parseScope(
  project: ModelsProject,
  path: string,
  refs: string[],
  sources: string[],
  onConfig: (kw: Yaml) => void,
) {
  return {
    ref(name: string) {
      if (!project.nodes.has(name)) throw new Error(`ref('${name}'): no model or seed is named "${name}"`);
      if (!refs.includes(name)) refs.push(name);
      return `__ref__.${name}`;
    },
    source(s: string, t: string) {
      const id = `${s}.${t}`;
      if (!project.sources.has(id))
        throw new Error(`source('${s}', '${t}'): no such table in the sources of the project's yml files`);
      if (!sources.includes(id)) sources.push(id);
      return project.sources.get(id)?.relation ?? id;
    },
    config: onConfig,
    self: `${project.targetSchema}.${basename(path, '.sql')}`,
    isIncremental: false,
    vars: project.vars,
    targetSchema: project.targetSchema,
  };
}

function parseModel(project: ModelsProject, renderer: Renderer, node: ModelNode): void {
  const configs: Yaml[] = [];
  renderer.render(
    node.path,
    node.raw,
    parseScope(project, node.path, node.refs, node.sources, (kw) => configs.push(kw)),
  );
  for (const kw of configs) applyConfig(node.config, kw, node.path);
}

/** @throws InvalidInputError naming a cycle of refs, e.g. `a → b → a`. */
function checkCycles(nodes: Map<string, ModelNode>): void {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'active') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      throw new InvalidInputError(
        `models reference each other in a cycle: ${cycle.join(' → ')}`,
        `break the cycle in ${nodes.get(name)?.path ?? name}`,
      );
    }
    state.set(name, 'active');
    stack.push(name);
    for (const r of nodes.get(name)?.refs ?? []) visit(r);
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of nodes.keys()) visit(name);
}
