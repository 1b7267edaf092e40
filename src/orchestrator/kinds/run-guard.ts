/**
 * The supervisor of a `run: { command: ... }` task. It starts the command in its own
 * process group (the one the worker created for this task) and stays connected to the
 * worker over IPC. If the worker dies, the channel closes and the supervisor ends the
 * whole group, so a task never outlives the worker that owns its attempt: otherwise the
 * attempt that takes over after the lease expires would run next to an orphan.
 *
 * The command's exit is passed on unchanged: the same exit code, or the same signal.
 */
import { spawn } from 'node:child_process';
import { watchWorker } from './run-orphan.js';

function main(): void {
  const [file, graceText, ...args] = process.argv.slice(2);
  if (!file || !process.send) {
    process.stderr.write('run-guard: started without a command or an IPC channel\n');
    process.exit(2);
  }
  // SIGTERM reaches the whole group (cancel, timeout): the command decides how to end,
  // and this process reports how it ended.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const worker = watchWorker(Number(graceText) || 5000);
  child.once('error', (err) => {
    worker.finished();
    process.send?.({ type: 'spawn-error', message: err.message }, () => process.exit(127));
  });
  child.once('exit', (code, signal) => {
    worker.finished();
    process.disconnect?.();
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

main();
