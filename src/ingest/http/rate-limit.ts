/** A token bucket shared by every stream of a source: at most N requests per second. */
import { wait } from './backoff.js';

/** Spaces calls so that no more than `perSecond` start in any second (bursts of up to one second's worth). */
export class RateLimiter {
  readonly #intervalMs: number;
  readonly #burst: number;
  #tokens: number;
  #last = Date.now();
  #queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
    this.#burst = Math.max(1, Math.floor(perSecond));
    this.#tokens = 1;
  }

  /** Resolve when a request may start. */
  take(signal?: AbortSignal): Promise<void> {
    const next = this.#queue.then(() => this.#take(signal));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #take(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) / this.#intervalMs);
    this.#last = now;
    if (this.#tokens < 1) {
      await wait(Math.ceil((1 - this.#tokens) * this.#intervalMs), signal);
      this.#tokens = 1;
      this.#last = Date.now();
    }
    this.#tokens -= 1;
  }
}
