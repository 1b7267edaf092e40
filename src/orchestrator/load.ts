/**
 * Loading `pipelines/*.yaml|yml|ts` into one validated set: every file's problems are
 * reported together, each with file:line (unknown kinds, duplicate ids, missing
 * dependencies, cycles, bad cron). Each pipeline keeps its raw definition (`${VAR}`
 * references unresolved, so no secret is stored) and a hash of it that runs are pinned to.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { type ConfigIssue, checkYamlText, issuesError, readConfigText } from '../config/index.js';
import { type Pipeline, pipelineSchema } from './definition.js';
import { TaskGraph } from './graph.js';
import { relativeTo } from './paths.js';
import type { TaskKindRegistry } from './registry.js';
import { expandEnv } from './template.js';
import { importTypeScript } from './transpile.js';

/** One loaded pipeline. */
export interface LoadedPipeline {
  name: string;
  /** The file it came from, relative to the project. */
  file: string;
  /** The definition as written (JSON), what the hash covers and runs are pinned to. */
  raw: Record<string, unknown>;
  hash: string;
  def: Pipeline;
  graph: TaskGraph;
}

const PIPELINE_EXTENSIONS = ['.yaml', '.yml', '.ts'];

/** Absolute paths of the pipeline files of a project, sorted. */
export function listPipelineFiles(projectDir: string): Promise<string[]> {
  return listProjectFiles(projectDir, 'pipelines', PIPELINE_EXTENSIONS);
}

/** Absolute paths of the files of a project directory (`pipelines`, `monitors`) with one of `extensions`, sorted. */
export async function listProjectFiles(
  projectDir: string,
  sub: string,
  extensions: readonly string[],
): Promise<string[]> {
  const dir = join(projectDir, sub);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [] as string[];
    throw err;
  });
  return names
    .filter(
      (n) => !n.startsWith('.') && !n.endsWith('.d.ts') && extensions.includes(extname(n).toLowerCase()),
    )
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Load and validate every pipeline file of the project.
 * @throws ConfigError listing every problem with file:line.
 */
export async function loadPipelines(
  projectDir: string,
  kinds: TaskKindRegistry,
  env: Record<string, string | undefined> = process.env,
): Promise<Map<string, LoadedPipeline>> {
  const schema = pipelineSchema(kinds);
  const issues: ConfigIssue[] = [];
  const out = new Map<string, LoadedPipeline>();
  for (const path of await listPipelineFiles(projectDir)) {
    const file = relativeTo(projectDir, path);
    const loaded = path.endsWith('.ts')
      ? await loadTs(path, file, schema, env)
      : await loadYaml(path, file, schema, env);
    if ('issues' in loaded) {
      issues.push(...loaded.issues);
      continue;
    }
    const first = out.get(loaded.def.name);
    if (first) {
      issues.push({ file, message: `pipeline "${loaded.def.name}" is already defined in ${first.file}` });
      continue;
    }
    out.set(loaded.def.name, {
      name: loaded.def.name,
      file,
      raw: loaded.raw,
      hash: hashDefinition(loaded.raw),
      def: loaded.def,
      graph: new TaskGraph(loaded.def.tasks),
    });
  }
  if (issues.length > 0) throw issuesError(issues);
  return out;
}

type Loaded = { raw: Record<string, unknown>; def: Pipeline } | { issues: ConfigIssue[] };
type Schema = ReturnType<typeof pipelineSchema>;

async function loadYaml(
  path: string,
  file: string,
  schema: Schema,
  env: Record<string, string | undefined>,
): Promise<Loaded> {
  const text = await readConfigText(path, file);
  const checked = checkYamlText(text, file, schema, { env });
  if (checked.issues.length > 0 || !checked.value) return { issues: checked.issues };
  const raw =
    checkYamlText(text, file, z.record(z.string(), z.unknown()), { interpolate: false }).value ?? {};
  return { raw, def: checked.value };
}

async function loadTs(
  path: string,
  file: string,
  schema: Schema,
  env: Record<string, string | undefined>,
): Promise<Loaded> {
  let mod: Record<string, unknown>;
  try {
    mod = await importTypeScript(path, file);
  } catch (err) {
    return { issues: [{ file, message: (err as Error).message.replace(`${file}: `, '') }] };
  }
  const value = mod.default ?? mod.pipeline;
  if (!value || typeof value !== 'object') {
    return { issues: [{ file, message: 'expected `export default definePipeline({...})`' }] };
  }
  const raw = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  const result = schema.safeParse(expandEnv(raw, env));
  if (result.success) return { raw, def: result.data };
  const text = await readConfigText(path, file);
  return {
    issues: result.error.issues.map((issue) => ({
      file,
      line: lineOf(text, raw, issue.path),
      message: `${label(issue.path)}${issue.message}`,
    })),
  };
}

/** The line of a path in a TypeScript file: the task's id literal, else the key's first use. */
function lineOf(text: string, raw: Record<string, unknown>, path: PropertyKey[]): number | undefined {
  const find = (needle: RegExp) => {
    const at = text.search(needle);
    return at < 0 ? undefined : text.slice(0, at).split('\n').length;
  };
  if (path[0] === 'tasks' && typeof path[1] === 'number') {
    const id = (raw.tasks as { id?: unknown }[] | undefined)?.[path[1]]?.id;
    if (typeof id === 'string') return find(new RegExp(`['"\`]${id.replace(/[^\w-]/g, '')}['"\`]`));
  }
  const key = path.find((p) => typeof p === 'string');
  return typeof key === 'string' ? find(new RegExp(`\\b${key.replace(/\W/g, '')}\\s*:`)) : undefined;
}

function label(path: PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out ? `${out}: ` : '';
}

/** The hash of a definition: sha256 of its JSON with keys sorted, first 16 hex digits. */
export function hashDefinition(raw: unknown): string {
  return createHash('sha256').update(stableJson(raw)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Validate a stored definition again (the version a run is pinned to), resolving `${VAR}`
 * from this process's environment. @throws ZodError-derived Error when it no longer validates.
 */
export function compilePipeline(
  raw: Record<string, unknown>,
  kinds: TaskKindRegistry,
  env: Record<string, string | undefined> = process.env,
): { def: Pipeline; graph: TaskGraph } {
  const def = pipelineSchema(kinds).parse(expandEnv(raw, env));
  return { def, graph: new TaskGraph(def.tasks) };
}
