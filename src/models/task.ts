/**
 * The `model` task kind: `model: <selector>` in a pipeline builds those models (in ref order)
 * and runs their data tests, so models are scheduled, retried and resumed like other tasks.
 * The task fails when a model fails to build or a test of severity `error` fails.
 */
import { isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import { openEngine } from '../engine/index.js';
import type { Runtime } from '../runtime/index.js';
import type { TaskKind, TaskResult } from '../runtime/tasks.js';
import { InvalidInputError } from '../util/index.js';
import { type BuildOptions, buildModels, type NodeResult } from './build.js';
import { type LoadOptions, loadModelsProject } from './project.js';
import { runTests, type TestResult } from './tests.js';
import type { ModelsProject } from './types.js';

/** `model: "+orders"` or `model: { select, full_refresh, dir, test }`. */
export const modelTaskSchema = z.union([
  z.string().min(1).describe('Models to build, in `--select` syntax (`*` for all).'),
  z.strictObject({
    select: z.string().min(1).default('*').describe('Models to build, in `--select` syntax.'),
    full_refresh: z.boolean().default(false).describe('Rebuild incremental models from scratch.'),
    test: z.boolean().default(true).describe("Run the built models' data tests after the build."),
    dir: z
      .string()
      .min(1)
      .optional()
      .describe('Directory of dbt_project.yml, relative to the project (default: the project).'),
    threads: z.number().int().min(1).max(64).optional().describe('Models built at once (default 4).'),
  }),
]);

export type ModelTaskSpec = z.infer<typeof modelTaskSchema>;

/** The directory of a project's dbt project: `dir` (relative to the project), else the project itself. */
export function modelsDirOf(projectDir: string, dir?: string): string {
  if (!dir) return projectDir;
  const path = isAbsolute(dir) ? dir : join(projectDir, dir);
  if (!isAbsolute(dir) && relative(projectDir, path).startsWith('..'))
    throw new InvalidInputError(`models directory ${dir} is outside the project directory`);
  return path;
}

/** Load the models project of a Sluice project. */
export function loadProjectModels(runtime: Runtime, dir?: string, o: LoadOptions = {}): ModelsProject {
  return loadModelsProject(modelsDirOf(runtime.project.dir, dir), {
    environment: runtime.project.environment,
    ...o,
  });
}

/** Build (and test) with an engine of its own that may read the project's seed files. */
export async function buildAndTest(
  runtime: Runtime,
  project: ModelsProject,
  o: BuildOptions & { test?: boolean },
): Promise<{ models: NodeResult[]; tests: TestResult[] }> {
  const engine = await openEngine(runtime, { fileAccess: 'all' });
  try {
    const models = await buildModels(runtime, engine, project, o);
    const built = models.filter((m) => m.status === 'success').map((m) => m.name);
    const tests =
      o.test === false || built.length === 0
        ? []
        : await runTests(engine, project, { select: built, signal: o.signal });
    return { models, tests };
  } finally {
    await engine.close();
  }
}

/** The task kind registered as `model`. */
export const modelTaskKind: TaskKind<ModelTaskSpec> = {
  name: 'model',
  schema: modelTaskSchema,
  async run(ctx, spec): Promise<TaskResult> {
    const s = typeof spec === 'string' ? { select: spec, full_refresh: false, test: true } : spec;
    const project = loadProjectModels(ctx.runtime, 'dir' in s ? s.dir : undefined);
    ctx.progress({ phase: 'build', message: `building ${s.select}` });
    const { models, tests } = await buildAndTest(ctx.runtime, project, {
      select: s.select,
      fullRefresh: s.full_refresh,
      test: s.test,
      threads: 'threads' in s ? s.threads : undefined,
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.result) ctx.log.info({ model: e.name, ...e.result }, 'model build done');
      },
    });
    const failed = models.filter((m) => m.status !== 'success');
    const failedTests = tests.filter((t) => t.status === 'fail' || t.status === 'error');
    const summary = {
      built: models.filter((m) => m.status === 'success').length,
      failed: failed.map((m) => m.name),
      tests: tests.length,
      testsFailed: failedTests.map((t) => t.name),
      warnings: tests.filter((t) => t.status === 'warn').map((t) => t.name),
    };
    ctx.progress({ phase: 'done', message: `${summary.built} models built, ${tests.length} tests` });
    if (failed.length || failedTests.length) {
      const first = failed[0]?.error ?? failedTests[0]?.message ?? '';
      throw new InvalidInputError(
        `models failed: ${[...summary.failed, ...summary.testsFailed].join(', ')}${first ? ` (${first})` : ''}`,
      );
    }
    return { summary };
  },
};
