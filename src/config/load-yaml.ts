import type { z } from 'zod';
import { type Env, type Interpolation, interpolateDocument, pathKey } from './interpolate.js';
import { byPosition, type ConfigIssue, expectedMessages, fromZodIssue, issuesError } from './issues.js';
import { displayPath, parseYamlSource, readConfigText, type YamlSource } from './yaml-source.js';

/** Options shared by every YAML project file loader. */
export interface YamlLoadOptions {
  /** Variables for `${VAR}` interpolation; defaults to process.env. */
  env?: Env;
  /** Substitute `${VAR}` references (default true). */
  interpolate?: boolean;
  /** The file name shown in messages (default: the path relative to the working directory). */
  displayName?: string;
}

/** A parsed file: its positions, its plain value, and what interpolation found. */
export interface AnalyzedYaml {
  source: YamlSource;
  data: unknown;
  issues: ConfigIssue[];
  interpolation: Interpolation;
}

/** Parse and interpolate YAML text; syntax problems stop here, other issues are collected. */
export function analyzeYaml(text: string, file: string, options: YamlLoadOptions = {}): AnalyzedYaml {
  const { source, issues } = parseYamlSource(text, file);
  const interpolation: Interpolation = { issues: [], secretPaths: new Set(), failedPaths: new Set() };
  if (issues.length > 0) return { source, data: undefined, issues, interpolation };
  if (options.interpolate !== false) {
    Object.assign(interpolation, interpolateDocument(source, options.env ?? process.env));
  }
  const data = source.doc.toJS({ maxAliasCount: 100 }) ?? {};
  return { source, data, issues: [...interpolation.issues], interpolation };
}

/** Validate a value read from `analyzed` and position every issue in its file. */
export function validateYaml<T extends z.ZodType>(
  schema: T,
  value: unknown,
  analyzed: AnalyzedYaml,
  toDocPath?: (path: PropertyKey[]) => PropertyKey[],
): { value?: z.output<T>; issues: ConfigIssue[] } {
  const result = schema.safeParse(value, { reportInput: true, error: expectedMessages });
  if (result.success) return { value: result.data, issues: [] };
  const { failedPaths, secretPaths } = analyzed.interpolation;
  const issues = result.error.issues
    .filter((issue) => !failedPaths.has(pathKey(issue.path)))
    .flatMap((issue) => fromZodIssue(issue, { source: analyzed.source, schema, secretPaths, toDocPath }));
  return { issues };
}

/** Parse YAML text with `schema`; every problem reported together with file:line:column. @throws ConfigError */
export function parseYamlText<T extends z.ZodType>(
  text: string,
  file: string,
  schema: T,
  options: YamlLoadOptions = {},
): z.output<T> {
  const { value, issues } = checkYamlText(text, file, schema, options);
  if (issues.length > 0) throw issuesError(issues);
  return value as z.output<T>;
}

/** Like parseYamlText, returning the issues instead of throwing. */
export function checkYamlText<T extends z.ZodType>(
  text: string,
  file: string,
  schema: T,
  options: YamlLoadOptions = {},
): { value?: z.output<T>; issues: ConfigIssue[] } {
  const analyzed = analyzeYaml(text, file, options);
  if (analyzed.issues.length > 0 && analyzed.data === undefined)
    return { issues: byPosition(analyzed.issues) };
  const checked = validateYaml(schema, analyzed.data, analyzed);
  const issues = byPosition([...analyzed.issues, ...checked.issues]);
  return issues.length > 0 ? { issues } : { value: checked.value, issues };
}

/**
 * Read a project YAML file (size-guarded), interpolate `${VAR}`, validate it with `schema`,
 * and report every problem with file:line:column. @throws ConfigError
 */
export async function loadYamlFile<T extends z.ZodType>(
  path: string,
  schema: T,
  options: YamlLoadOptions = {},
): Promise<z.output<T>> {
  const file = options.displayName ?? displayPath(path);
  const text = await readConfigText(path, file);
  return parseYamlText(text, file, schema, options);
}
