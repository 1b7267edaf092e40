/** Admission of statements: at most `max` run at once, up to `queueSize` wait, the rest fail at once. */
import { QueueFullError } from './errors.js';

/** Slots of running statements with a bounded wait queue. */
export class QuerySlots {
  readonly #max: number;
  readonly #queueSize: number;
  readonly #waiters: (() => void)[] = [];
  #running = 0;

  constructor(max: number, queueSize: number) {
    this.#max = Math.max(1, max);
    this.#queueSize = Math.max(0, queueSize);
  }

  /** Statements running and waiting now. */
  get load(): { running: number; queued: number } {
    return { running: this.#running, queued: this.#waiters.length };
  }

  /**
   * Wait for a slot; the returned function frees it (safe to call twice).
   * @throws QueueFullError when the queue is full; the signal's reason when aborted while waiting.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#running < this.#max) {
      this.#running++;
      return this.#releaser();
    }
    if (this.#waiters.length >= this.#queueSize)
      throw new QueueFullError(this.#running, this.#waiters.length);
    await new Promise<void>((resolve, reject) => {
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#running--;
    };
  }
}
