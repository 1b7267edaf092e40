/**
 * The child process of a `run: { ts: ... }` task: imports the module and calls its default
 * export with the task's context; progress and the result go to the worker over IPC.
 * Exit code 0 on success, 1 when the function throws.
 */
import { importTypeScript } from '../transpile.js';
import { watchWorker } from './run-orphan.js';

/** What a TypeScript task module's default export receives. */
export interface RunModuleContext {
  pipeline: string;
  taskId: string;
  runId: string;
  attempt: number;
  ds: string;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  params: Record<string, string>;
  progress(p: { phase?: string; rows?: number; message?: string }): void;
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path || !process.send) {
    process.stderr.write('run-child: started without a module or an IPC channel\n');
    process.exit(2);
  }
  const env = process.env;
  const worker = watchWorker(Number(process.argv[3]) || 5000);
  const mod = path.endsWith('.ts') ? await importTypeScript(path) : await import(path);
  const fn = (mod.default ?? mod.run) as unknown;
  if (typeof fn !== 'function') {
    throw new Error(`${path} must export a function: export default async function (ctx) { ... }`);
  }
  const ctx: RunModuleContext = {
    pipeline: env.SLUICE_PIPELINE ?? '',
    taskId: env.SLUICE_TASK_ID ?? '',
    runId: env.SLUICE_RUN_ID ?? '',
    attempt: Number(env.SLUICE_ATTEMPT ?? 1),
    ds: env.SLUICE_DS ?? '',
    dataIntervalStart: new Date(env.SLUICE_DATA_INTERVAL_START ?? 0),
    dataIntervalEnd: new Date(env.SLUICE_DATA_INTERVAL_END ?? 0),
    params: JSON.parse(env.SLUICE_PARAMS ?? '{}'),
    progress: (p) => process.send?.({ type: 'progress', progress: p }),
  };
  const result = await (fn as (c: RunModuleContext) => unknown)(ctx);
  const summary = result && typeof result === 'object' ? result : undefined;
  await new Promise<void>((resolve) => process.send!({ type: 'result', summary }, () => resolve()));
  worker.finished();
  process.disconnect?.();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
