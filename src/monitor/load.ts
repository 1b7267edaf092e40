/**
 * Loading `monitors/*.yaml|yml` of a project: every file's problems reported together with
 * file:line, duplicate names named with the first file.
 */
import { type ConfigIssue, checkYamlText, issuesError, readConfigText } from '../config/index.js';
import { hashDefinition, listProjectFiles } from '../orchestrator/load.js';
import { relativeTo } from '../orchestrator/paths.js';
import { type Monitor, monitorSchema } from './definition.js';

/** The directory of monitor rules inside a project. */
export const MONITORS_DIR = 'monitors';

/** One loaded rule. */
export interface LoadedMonitor {
  name: string;
  /** The file it came from, relative to the project. */
  file: string;
  /** Hash of the definition after validation (targets resolved from `${VAR}` are not part of it). */
  hash: string;
  def: Monitor;
}

/**
 * Load and validate every monitor rule of the project.
 * @throws ConfigError listing every problem with file:line.
 */
export async function loadMonitors(
  projectDir: string,
  env: Record<string, string | undefined> = process.env,
): Promise<Map<string, LoadedMonitor>> {
  const issues: ConfigIssue[] = [];
  const out = new Map<string, LoadedMonitor>();
  for (const path of await listProjectFiles(projectDir, MONITORS_DIR, ['.yaml', '.yml'])) {
    const file = relativeTo(projectDir, path);
    const text = await readConfigText(path, file);
    const checked = checkYamlText(text, file, monitorSchema, { env });
    if (checked.issues.length > 0 || !checked.value) {
      issues.push(...checked.issues);
      continue;
    }
    const def = checked.value;
    const first = out.get(def.name);
    if (first) {
      issues.push({ file, message: `monitor "${def.name}" is already defined in ${first.file}` });
      continue;
    }
    const { alerts: _secrets, ...rest } = def;
    out.set(def.name, { name: def.name, file, hash: hashDefinition(rest), def });
  }
  if (issues.length > 0) throw issuesError(issues);
  return out;
}
