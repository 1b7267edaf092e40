/**
 * Data tests and source freshness. A test's query returns the failing rows; when there are
 * any, they are stored in the lake table `<target schema>_test_failures.<test name>` (one
 * commit, replaced on every failing run, dropped when the test passes again) so they can be
 * inspected with `sluice sql`.
 */
import type { Engine, EngineSession } from '../engine/index.js';
import { errorMessage } from '../util/index.js';
import { Compiler } from './compile.js';
import { selectNodes } from './select.js';
import type { DataTest, ModelsProject, SourceTable } from './types.js';

/** The outcome of one data test or freshness check. */
export interface TestResult {
  name: string;
  kind: DataTest['kind'] | 'freshness';
  /** The model, seed or source table tested. */
  attachedTo: string;
  column?: string;
  status: 'pass' | 'warn' | 'fail' | 'error';
  severity: 'warn' | 'error';
  failures: number;
  /** Where the failing rows are stored (when there are any). */
  failuresTable?: string;
  message?: string;
  ms: number;
}

/** Options of `runTests`. */
export interface TestOptions {
  /** Test the selected models (and sources they read); default: all tests. */
  select?: string | string[];
  signal?: AbortSignal;
  /** Include source freshness checks (default true). */
  freshness?: boolean;
  /** Time "now" for freshness (tests). */
  now?: Date;
}

/** The schema holding failing rows of a project's tests. */
export function failuresSchema(project: ModelsProject): string {
  return `${project.targetSchema}_test_failures`;
}

async function scalar(session: EngineSession, sql: string, signal?: AbortSignal): Promise<unknown> {
  const result = await session.run(sql, { signal, timeoutMs: 0 });
  let value: unknown;
  for await (const batch of result.batches()) if (value === undefined) value = batch[0]?.[0];
  return value;
}

async function exec(session: EngineSession, sql: string, signal?: AbortSignal): Promise<void> {
  const result = await session.run(sql, { signal, timeoutMs: 0 });
  for await (const _ of result.batches()) {
    // consume
  }
}

/** Sources the named nodes read, directly or through ephemeral models they ref. */
function sourcesRead(project: ModelsProject, names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const node = project.nodes.get(name);
    for (const s of node?.sources ?? []) out.add(s);
    for (const r of node?.refs ?? []) if (project.nodes.get(r)?.config.materialized === 'ephemeral') visit(r);
  };
  for (const n of names) visit(n);
  return out;
}

/** The tests a selection covers: tests of selected nodes and of the sources they read. */
export function selectTests(project: ModelsProject, select?: string | string[]): DataTest[] {
  const empty = (Array.isArray(select) ? select.join(' ') : (select ?? '')).trim() === '';
  if (empty) return project.tests;
  const names = selectNodes(project, select);
  const sources = sourcesRead(project, names);
  // A test runs when everything it reads is selected (a relationships test of `orders`
  // against `customers` needs both built).
  return project.tests.filter((t) => {
    const needs = [...new Set([...(project.nodes.has(t.attachedTo) ? [t.attachedTo] : []), ...t.refs])];
    if (needs.length === 0) return sources.has(t.attachedTo);
    return needs.every((n) => names.has(n));
  });
}

async function runOne(
  session: EngineSession,
  compiler: Compiler,
  test: DataTest,
  failSchema: string,
  signal?: AbortSignal,
): Promise<TestResult> {
  const begun = Date.now();
  const base = {
    name: test.name,
    kind: test.kind,
    attachedTo: test.attachedTo,
    column: test.column,
    severity: test.severity,
  };
  const table = `${failSchema}.${test.name}`;
  try {
    const sql = compiler.testSql(test);
    const n = Number(await scalar(session, `SELECT count(*) FROM (\n${sql}\n) AS failing`, signal));
    if (n > 0) await exec(session, `CREATE OR REPLACE TABLE ${table} AS\n${sql}`, signal);
    else await exec(session, `DROP TABLE IF EXISTS ${table}`, signal);
    const status = n === 0 ? 'pass' : test.severity === 'warn' ? 'warn' : 'fail';
    return {
      ...base,
      status,
      failures: n,
      failuresTable: n > 0 ? table : undefined,
      message: n > 0 ? `${n} failing row${n === 1 ? '' : 's'} (${test.path})` : undefined,
      ms: Date.now() - begun,
    };
  } catch (err) {
    return {
      ...base,
      status: 'error',
      failures: 0,
      message: `${test.path}: ${errorMessage(err)}`,
      ms: Date.now() - begun,
    };
  }
}

async function freshnessOne(
  session: EngineSession,
  source: SourceTable,
  now: Date,
  signal?: AbortSignal,
): Promise<TestResult> {
  const begun = Date.now();
  const f = source.freshness ?? {};
  const base = {
    name: `freshness_${source.id.replace('.', '_')}`,
    kind: 'freshness' as const,
    attachedTo: source.id,
    column: source.loadedAtField,
    severity: (f.errorAfterSeconds !== undefined ? 'error' : 'warn') as 'warn' | 'error',
    failures: 0,
  };
  try {
    const col = source.loadedAtField as string;
    const latest = await scalar(
      session,
      `SELECT CAST(epoch(max(CAST(${col} AS TIMESTAMPTZ))) AS DOUBLE) FROM ${source.relation}`,
      signal,
    );
    if (latest === null || latest === undefined)
      return {
        ...base,
        status: 'fail',
        failures: 1,
        message: `${source.relation} has no rows`,
        ms: Date.now() - begun,
      };
    const age = now.getTime() / 1000 - Number(latest);
    const ageText = `newest ${col} is ${Math.round(age)}s old`;
    if (f.errorAfterSeconds !== undefined && age > f.errorAfterSeconds)
      return {
        ...base,
        status: 'fail',
        failures: 1,
        message: `${ageText} (error_after ${f.errorAfterSeconds}s)`,
        ms: Date.now() - begun,
      };
    if (f.warnAfterSeconds !== undefined && age > f.warnAfterSeconds)
      return {
        ...base,
        severity: 'warn',
        status: 'warn',
        failures: 1,
        message: `${ageText} (warn_after ${f.warnAfterSeconds}s)`,
        ms: Date.now() - begun,
      };
    return { ...base, status: 'pass', message: ageText, ms: Date.now() - begun };
  } catch (err) {
    return {
      ...base,
      status: 'error',
      message: `${source.path}: ${errorMessage(err)}`,
      ms: Date.now() - begun,
    };
  }
}

/**
 * Run the data tests (and source freshness checks) of a selection, one at a time.
 * @throws InvalidInputError for a bad selector.
 */
export async function runTests(
  engine: Engine,
  project: ModelsProject,
  o: TestOptions = {},
): Promise<TestResult[]> {
  const tests = selectTests(project, o.select);
  const compiler = new Compiler(project);
  const attached = new Set(tests.map((t) => t.attachedTo));
  const empty = (Array.isArray(o.select) ? o.select.join(' ') : (o.select ?? '')).trim() === '';
  const readSources = empty
    ? new Set(project.sources.keys())
    : sourcesRead(project, selectNodes(project, o.select));
  const session = await engine.openSession({ name: `models:${project.name}:test`, readOnly: false });
  const out: TestResult[] = [];
  try {
    for (const test of tests)
      out.push(await runOne(session, compiler, test, failuresSchema(project), o.signal));
    if (o.freshness !== false) {
      for (const source of project.sources.values()) {
        if (!source.loadedAtField || !source.freshness) continue;
        if (!readSources.has(source.id) && !attached.has(source.id)) continue;
        out.push(await freshnessOne(session, source, o.now ?? new Date(), o.signal));
      }
    }
  } finally {
    await session.close();
  }
  return out;
}
