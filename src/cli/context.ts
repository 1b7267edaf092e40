import { resolve } from 'node:path';
import { findProjectDir, loadProject, type Project } from '../config/project.js';
// The logger only: the observe barrel also loads prom-client, which no command but serve needs.
import { createLogger, type Logger, type LogLevel } from '../observe/log.js';
import type { GlobalOptions } from './main.js';
import { createOutput, type Output } from './output.js';

/** What a command needs once its project is loaded. */
export interface CommandContext {
  project: Project;
  log: Logger;
  out: Output;
}

/** The project directory: `--project`, else the nearest parent holding sluice.yaml, else cwd. */
export function projectDirOf(globals: GlobalOptions): string {
  if (globals.project) return resolve(globals.project);
  return findProjectDir(process.cwd()) ?? process.cwd();
}

/**
 * Load the project and make the command's logger: JSON lines to the project's log file at
 * the configured level, and on stderr too when `--log-level` is given.
 */
export async function openCommand(globals: GlobalOptions): Promise<CommandContext> {
  const project = await loadProject(projectDirOf(globals), {
    environment: globals.env ?? process.env.SLUICE_ENV,
  });
  const level = (globals.logLevel ?? project.config.log.level) as LogLevel;
  const log = createLogger({ level, file: project.config.log.file, stderr: globals.logLevel !== undefined });
  return { project, log, out: createOutput(globals.json ?? false) };
}
