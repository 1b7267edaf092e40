/**
 * The `run` task kind: a shell command or a TypeScript module, each in its own child
 * process (its own process group), with its own working directory, environment, time limit
 * and memory limit. Output is captured line by line into the attempt's log; cancel and
 * timeout kill the whole process tree, and so does the death of the worker (the child
 * watches its IPC channel).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseSize } from '../../config/index.js';
import type { TaskContext, TaskKind } from '../../runtime/tasks.js';
import { durationMs } from '../duration.js';
import { TaskFailedError } from '../errors.js';
import { captureLines } from './lines.js';

const RUNNER = fileURLToPath(new URL('./run-child.js', import.meta.url));
const GUARD = fileURLToPath(new URL('./run-guard.js', import.meta.url));

const size = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  const bytes = typeof v === 'number' ? v : parseSize(v);
  if (bytes === undefined || bytes < 16 * 1024 * 1024) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a memory limit such as "512MiB" (at least 16MiB), found ${JSON.stringify(v)}`,
      input: v,
    });
    return z.NEVER;
  }
  return bytes;
});

const runSchema = z
  .strictObject({
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .optional()
      .describe('A shell command (string, run by /bin/sh) or an argv list (run directly).'),
    ts: z
      .string()
      .min(1)
      .optional()
      .describe('A TypeScript module (relative to the project) whose default export runs.'),
    cwd: z
      .string()
      .optional()
      .describe(
        "Working directory, relative to the project (default: the project, or the module's directory).",
      ),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables.'),
    inherit_env: z
      .boolean()
      .default(false)
      .describe('Pass the whole worker environment, not only PATH, HOME, LANG and TZ.'),
    memory: size
      .optional()
      .describe('Memory limit: heap size for TypeScript, address space (ulimit -v) for commands.'),
    kill_grace: durationMs.default(5000).describe('Time between SIGTERM and SIGKILL on cancel or timeout.'),
    isolation: z.literal('process').default('process'),
  })
  .refine((s) => (s.command === undefined) !== (s.ts === undefined), {
    error: 'run needs exactly one of command or ts',
  });

/** What the child process of a task tells the worker over IPC. */
interface ChildMessage {
  type?: 'progress' | 'result' | 'spawn-error';
  progress?: object;
  summary?: Record<string, unknown>;
  message?: string;
}

/** A validated `run:` spec. */
export type RunSpec = z.output<typeof runSchema>;

const BASE_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL', 'NODE_OPTIONS'];

/** The `run` kind. */
export const runTaskKind: TaskKind<RunSpec> = {
  name: 'run',
  schema: runSchema as z.ZodType<RunSpec>,
  run: (ctx, spec) => runIsolated(ctx, spec),
};

async function runIsolated(ctx: TaskContext, spec: RunSpec): Promise<{ summary?: Record<string, unknown> }> {
  const projectDir = ctx.runtime.project.dir;
  const module = spec.ts ? resolve(projectDir, spec.ts) : undefined;
  const cwd = spec.cwd ? resolve(projectDir, spec.cwd) : module ? resolve(module, '..') : projectDir;
  const env = childEnv(ctx, spec);
  let child: ChildProcess;
  if (module) {
    const heap = spec.memory
      ? [`--max-old-space-size=${Math.max(16, Math.floor(spec.memory / 1024 / 1024))}`]
      : [];
    child = spawn(process.execPath, [...heap, RUNNER, module, String(spec.kill_grace)], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
  } else {
    // A small supervisor leads the group, so the command dies with the worker (run-guard.ts).
    const [file, args] = shellCommand(spec);
    child = spawn(process.execPath, [GUARD, file, String(spec.kill_grace), ...args], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
  }
  let summary: Record<string, unknown> | undefined;
  let startError: string | undefined;
  child.on('message', (m: ChildMessage) => {
    if (m?.type === 'progress' && m.progress) ctx.progress(m.progress);
    if (m?.type === 'result') summary = m.summary;
    if (m?.type === 'spawn-error') startError = m.message;
  });
  const done = Promise.all([
    captureLines(child.stdout!, (line) => ctx.log.info({ stream: 'stdout' }, line)),
    captureLines(child.stderr!, (line) => ctx.log.info({ stream: 'stderr' }, line)),
  ]);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>(
    (res) => {
      child.once('error', (err) => res({ code: null, signal: null, spawnError: err }));
      child.once('exit', (code, signal) => res({ code, signal }));
    },
  );
  const stop = () => killTree(child, spec.kill_grace);
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    const result = await exit;
    await done;
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const notStarted = result.spawnError?.message ?? startError;
    if (notStarted !== undefined) {
      throw new TaskFailedError(
        'error',
        `cannot start ${module ?? String(spec.command)} in ${cwd}: ${notStarted}`,
      );
    }
    if (result.signal) {
      throw new TaskFailedError('crash', `the task process was killed by ${result.signal}`);
    }
    if (result.code !== 0) {
      throw new TaskFailedError(
        'error',
        `the task process exited with code ${result.code}`,
        result.code ?? undefined,
      );
    }
    return summary ? { summary } : {};
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    // Whatever the task left behind in its process group goes with it.
    signalGroup(child, 'SIGKILL');
  }
}

function childEnv(ctx: TaskContext, spec: RunSpec): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  if (spec.inherit_env) Object.assign(base, process.env);
  else for (const key of BASE_ENV) if (process.env[key] !== undefined) base[key] = process.env[key];
  return {
    ...base,
    SLUICE_PIPELINE: ctx.pipeline,
    SLUICE_TASK_ID: ctx.taskId,
    SLUICE_RUN_ID: ctx.runId,
    SLUICE_ATTEMPT: String(ctx.attempt),
    SLUICE_DS: ctx.dataIntervalStart.toISOString().slice(0, 10),
    SLUICE_DATA_INTERVAL_START: ctx.dataIntervalStart.toISOString(),
    SLUICE_DATA_INTERVAL_END: ctx.dataIntervalEnd.toISOString(),
    SLUICE_PARAMS: JSON.stringify(ctx.params),
    SLUICE_PROJECT_DIR: ctx.runtime.project.dir,
    ...spec.env,
  };
}

function shellCommand(spec: RunSpec): [string, string[]] {
  const limit = spec.memory ? `ulimit -v ${Math.floor(spec.memory / 1024)} && ` : '';
  if (typeof spec.command === 'string') return ['/bin/sh', ['-c', `${limit}${spec.command}`]];
  const argv = spec.command ?? [];
  if (limit) return ['/bin/sh', ['-c', `${limit}exec "$@"`, 'sh', ...argv]];
  const [file = '', ...args] = argv;
  return [isAbsolute(file) || !file.includes('/') ? file : resolve(file), args];
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGTERM to the process group, SIGKILL after the grace period if anything is left. */
function killTree(child: ChildProcess, graceMs: number): void {
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  timer.unref();
  child.once('exit', () => {
    clearTimeout(timer);
    signalGroup(child, 'SIGKILL');
  });
}
