import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino';
import { redactText, redactValue } from '../util/index.js';

export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** Append structured JSON lines to this file (its directory is created). */
  file?: string;
  /** Also log to stderr. Default: only when no file is given. */
  stderr?: boolean;
  /** Human-readable lines on stderr. Default: when stderr is a TTY. */
  pretty?: boolean;
  /** Write JSON lines here instead of stderr (tests, embedding). */
  stream?: DestinationStream;
}

/** Serialise an error with secrets removed from its message and stack. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return redactValue(err);
  const out: Record<string, unknown> = {
    type: err.name,
    message: redactText(err.message),
    stack: err.stack ? redactText(err.stack) : undefined,
  };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

/**
 * The product's logger: pino, JSON lines to a file, pretty lines on a TTY. Every field and
 * message goes through secret redaction (URL passwords, tokens, `*_KEY`/`*_SECRET` values),
 * so a secret that reaches a log call by mistake is still not written.
 */
export function createLogger(o: LoggerOptions = {}): Logger {
  const level = o.level ?? 'info';
  // multistream takes no 'silent' level: the logger's own level already drops everything then.
  const streamLevel = level === 'silent' ? 'fatal' : level;
  const streams: StreamEntry[] = [];
  if (o.stream) {
    streams.push({ level: streamLevel, stream: o.stream });
  } else if (o.stderr ?? !o.file) {
    const pretty = o.pretty ?? process.stderr.isTTY;
    streams.push({
      level: streamLevel,
      stream: pretty ? prettyStream() : pino.destination({ fd: 2, sync: true }),
    });
  }
  if (o.file) {
    mkdirSync(dirname(o.file), { recursive: true });
    // Synchronous writes: log lines survive a crash right after they are written.
    streams.push({
      level: streamLevel,
      stream: pino.destination({ dest: o.file, append: true, mkdir: true, sync: true }),
    });
  }
  return pino(
    {
      level,
      base: { pid: process.pid },
      serializers: { err: serializeError, error: serializeError },
      formatters: { log: (fields) => redactValue(fields) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    pino.multistream(streams),
  );
}

/** Pretty output on stderr, loaded only when used (keeps CLI start-up fast). */
function prettyStream(): DestinationStream {
  // pino-pretty is CommonJS; createRequire keeps this synchronous.
  const pretty = createRequire(import.meta.url)('pino-pretty') as (
    o: Record<string, unknown>,
  ) => DestinationStream;
  return pretty({
    destination: 2,
    sync: true,
    colorize: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/** A logger that drops everything (library use without configuration). */
export const silentLogger: Logger = pino({ level: 'silent' });
