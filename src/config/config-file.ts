import type { Env } from './interpolate.js';
import { byPosition, type ConfigIssue, issuesError, suggest } from './issues.js';
import { type AnalyzedYaml, analyzeYaml, validateYaml } from './load-yaml.js';
import { deepMerge, dropEmptyValues, resolveConfig, selectedEnvironment } from './resolve.js';
import { type ParsedSluiceConfig, type SluiceConfig, sluiceConfigSchema } from './schema.js';
import { locate } from './yaml-source.js';

/** How to read a sluice.yaml. */
export interface ConfigOptions {
  /** The file name shown in messages. */
  file: string;
  /** The project directory: relative paths resolve against it, and it names the project by default. */
  dir: string;
  /** Variables for `${VAR}` interpolation; defaults to process.env. */
  env?: Env;
  /** The environment to merge over the base (else `SLUICE_ENV` from `env`). */
  environment?: string;
}

/**
 * Parse, interpolate, validate and resolve the text of a sluice.yaml, reporting every
 * problem together with file:line:column. @throws ConfigError
 */
export function parseConfig(text: string, options: ConfigOptions): SluiceConfig {
  return parseConfigChecked(text, options).config;
}

/**
 * parseConfig, also telling whether the result depends on environment variables (the
 * text references `${VAR}`): only a result that does not may be cached. @throws ConfigError
 */
export function parseConfigChecked(
  text: string,
  options: ConfigOptions,
): { config: SluiceConfig; referencesVariables: boolean } {
  const env = options.env ?? process.env;
  const analyzed = analyzeYaml(text, options.file, { env });
  if (analyzed.data === undefined) throw issuesError(byPosition(analyzed.issues));
  const data = dropEmptyValues(analyzed.data);
  const base = validateYaml(sluiceConfigSchema, data, analyzed);
  const issues = [...analyzed.issues, ...base.issues];
  const environment = selectedEnvironment(options);
  let parsed = base.value;
  if (issues.length === 0 && parsed && environment) {
    const merged = mergeEnvironment(data as Record<string, unknown>, parsed, environment, analyzed);
    issues.push(...merged.issues);
    parsed = merged.value;
  }
  if (issues.length > 0 || !parsed) throw issuesError(byPosition(issues));
  const referencesVariables = analyzed.interpolation.referencesVariables === true;
  return { config: resolveConfig(parsed, options.dir), referencesVariables };
}

function mergeEnvironment(
  data: Record<string, unknown>,
  parsed: ParsedSluiceConfig,
  environment: string,
  analyzed: AnalyzedYaml,
): { value?: ParsedSluiceConfig; issues: ConfigIssue[] } {
  const overlays = (data.environments ?? {}) as Record<string, unknown>;
  if (!Object.hasOwn(overlays, environment))
    return { issues: [unknownEnvironment(environment, parsed, analyzed)] };
  const { environments: _ignored, ...rawBase } = data;
  const merged = {
    ...(deepMerge(rawBase, overlays[environment]) as Record<string, unknown>),
    environments: overlays,
  };
  // A merged key comes from the environment when the environment sets it, else from the base.
  const toDocPath = (path: PropertyKey[]): PropertyKey[] => {
    const inEnv = ['environments', environment, ...path];
    return path.length > 0 && locate(analyzed.source, inEnv).exact ? inEnv : path;
  };
  return validateYaml(sluiceConfigSchema, merged, analyzed, toDocPath);
}

function unknownEnvironment(
  environment: string,
  parsed: ParsedSluiceConfig,
  analyzed: AnalyzedYaml,
): ConfigIssue {
  const names = Object.keys(parsed.environments);
  const at = locate(analyzed.source, names.length > 0 ? ['environments'] : [], 'key');
  const guess = suggest(environment, names);
  return {
    file: analyzed.source.file,
    line: names.length > 0 ? at.line : undefined,
    column: names.length > 0 ? at.column : undefined,
    message:
      names.length > 0
        ? `unknown environment "${environment}"${guess ? ` — did you mean "${guess}"?` : ''} (defined: ${names.join(', ')})`
        : `unknown environment "${environment}": no environments are defined`,
    hint:
      names.length > 0
        ? 'pick one of the environments under "environments:", or unset --env / SLUICE_ENV'
        : `add "environments: { ${environment}: { ... } }" to sluice.yaml, or unset --env / SLUICE_ENV`,
  };
}
