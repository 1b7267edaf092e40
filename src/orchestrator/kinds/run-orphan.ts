/**
 * Shared by the child processes of `run` tasks: when the IPC channel to the worker closes
 * before the task finished (the worker was killed), end the task's whole process group,
 * SIGTERM first and SIGKILL after the grace period.
 */

/** Watch the channel to the worker. The caller must lead its process group (spawned detached). */
export function watchWorker(graceMs: number): { finished(): void } {
  let finished = false;
  process.once('disconnect', () => {
    if (finished) return;
    signalOwnGroup('SIGTERM');
    setTimeout(() => signalOwnGroup('SIGKILL'), graceMs).unref();
  });
  return {
    finished: () => {
      finished = true;
    },
  };
}

function signalOwnGroup(signal: NodeJS.Signals): void {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // The group is gone already.
  }
}
