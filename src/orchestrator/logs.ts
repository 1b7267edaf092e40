/**
 * The log of one attempt: lines from the task's logger and from an isolated task's
 * stdout/stderr, buffered and written to sluice_task_logs in batches.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { MetaStore } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { redactText } from '../util/index.js';

const FLUSH_MS = 500;
const MAX_LINES_PER_ATTEMPT = 50_000;
const MAX_TEXT = 8192;

/** Buffers the lines of one attempt and writes them in order. */
export class AttemptLog {
  readonly logger: Logger;
  readonly #meta: MetaStore;
  readonly #key: [string, string, number];
  #buffer: { stream: string; at: number; text: string }[] = [];
  #seq = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(meta: MetaStore, runId: string, taskId: string, attempt: number, level = 'info') {
    this.#meta = meta;
    this.#key = [runId, taskId, attempt];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line) this.#addJson(line);
        done();
      },
    });
    this.logger = pino({ level, base: undefined }, sink);
  }

  /** Add a line directly. */
  add(stream: string, text: string): void {
    if (this.#seq + this.#buffer.length >= MAX_LINES_PER_ATTEMPT) {
      this.#dropped += 1;
      return;
    }
    this.#buffer.push({ stream, at: Date.now(), text: redactText(text).slice(0, MAX_TEXT) });
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  #addJson(line: string): void {
    try {
      const rec = JSON.parse(line) as {
        level?: number;
        msg?: string;
        stream?: string;
        err?: { message?: string };
      };
      const stream = rec.stream ?? pino.levels.labels[rec.level ?? 30] ?? 'info';
      this.add(stream, rec.msg ?? rec.err?.message ?? line);
    } catch {
      this.add('log', line);
    }
  }

  /** Write buffered lines (in order with earlier flushes). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#buffer;
    this.#buffer = [];
    if (lines.length === 0) return this.#flushing;
    const first = this.#seq;
    this.#seq += lines.length;
    this.#flushing = this.#flushing.then(() => this.#write(first, lines)).catch(() => undefined);
    return this.#flushing;
  }

  /** Flush everything, noting lines dropped over the limit. */
  async close(): Promise<void> {
    if (this.#dropped > 0) {
      this.#buffer.push({ stream: 'log', at: Date.now(), text: `(${this.#dropped} more lines not kept)` });
    }
    await this.flush();
  }

  async #write(first: number, lines: { stream: string; at: number; text: string }[]): Promise<void> {
    const [runId, taskId, attempt] = this.#key;
    for (let i = 0; i < lines.length; i += 100) {
      const chunk = lines.slice(i, i + 100);
      await this.#meta.execute(
        `INSERT INTO sluice_task_logs (run_id, task_id, attempt, seq, stream, at, text) VALUES ${chunk
          .map(() => '(?, ?, ?, ?, ?, ?, ?)')
          .join(', ')}`,
        chunk.flatMap((l, j) => [runId, taskId, attempt, first + i + j, l.stream, l.at, l.text]),
      );
    }
  }
}
