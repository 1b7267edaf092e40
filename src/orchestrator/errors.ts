import { SluiceError } from '../util/index.js';

/** Why an attempt failed, as retry policies (`retries.on`) name it. */
export type FailureReason = 'error' | 'timeout' | 'crash';

/** A task attempt failed; `reason` and `exitCode` drive retry decisions. */
export class TaskFailedError extends SluiceError {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly exitCode?: number,
    opts?: ErrorOptions,
  ) {
    super('task_failed', message, undefined, opts);
  }
}
