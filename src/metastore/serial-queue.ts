/** Runs async tasks one at a time, in call order: SQLite's single writer, in process. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** True when no task is running or waiting, so a synchronous statement may run right away. */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** Run `fn` after every task queued before it has settled. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    // When idle, start at once: saves a turn of the event loop per uncontended transaction.
    const result = this.#pending === 0 ? new Promise<T>((resolve) => resolve(fn())) : this.#tail.then(fn);
    this.#pending += 1;
    this.#tail = result.then(this.#release, this.#release);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  async drain(): Promise<void> {
    while (this.#pending > 0) await this.#tail;
  }

  #release = (): void => {
    this.#pending -= 1;
  };
}
