/** Request helpers of the bus routes: the caller, JSON bodies, query numbers. */
import { isAscii } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { authorize, requireScope, type Subject } from './auth.js';
import type { EventBus } from './bus.js';
import { PayloadTooLargeError, UnprocessableError } from './problem.js';
import type { AuthorizationAttribute } from './types.js';

/** Hono variables the bus middleware sets. */
export type BusEnv = { Variables: { subject: Subject } };

/** The authenticated caller (set by the auth middleware). */
export function subjectOf(c: Context<BusEnv>): Subject {
  return c.get('subject');
}

/** The TCP peer of the request (undefined in-process: not known to be this machine). */
export function remoteOf(c: Context): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
}

/** An error whose status is 400 with a Problem detail (malformed request syntax). */
export class BadRequestError extends Error {
  readonly status = 400;
}

/**
 * The request body as text, at most `limit` bytes (`tooLarge` is the 413 detail). Served by
 * Node, the body is read from the Node request itself into one buffer, without a Fetch
 * Request and Web stream around it; decoded as `Request.text()` does (UTF-8, BOM dropped).
 * @throws PayloadTooLargeError over the limit
 */
export async function bodyText(c: Context, limit: number, tooLarge: string): Promise<string> {
  if (Number(c.req.header('content-length')) > limit) throw new PayloadTooLargeError(tooLarge);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  let bytes: Uint8Array;
  if (incoming && !incoming.readableDidRead && !incoming.readableEnded) {
    bytes = await readLimited(incoming, limit, tooLarge);
  } else {
    bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > limit) throw new PayloadTooLargeError(tooLarge);
  }
  return decodeUtf8(bytes);
}

/**
 * UTF-8 bytes as text, as `Request.text()` decodes them (BOM dropped, invalid sequences
 * replaced). A body of ASCII only (most JSON) is copied into a one-byte string directly,
 * which is several times cheaper than a UTF-8 decode of a large body.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return new TextDecoder().decode(bytes);
}

/** Read a Node request body; stops reading (the server drains the rest) once over `limit`. */
function readLimited(incoming: IncomingMessage, limit: number, tooLarge: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      incoming.pause();
      reject(new PayloadTooLargeError(tooLarge));
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // A client that goes away mid-body ends the request without 'end' (and maybe without 'error').
    const onClose = () =>
      onError(new BadRequestError('the connection closed before the request body was complete'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** The parsed JSON body. @throws BadRequestError for malformed JSON */
export async function jsonBody(c: Context, read?: string): Promise<unknown> {
  const text = read ?? (await c.req.text());
  if (!text.trim()) throw new BadRequestError('request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`malformed JSON: ${(err as Error).message}`);
  }
}

/** A non-negative integer query parameter. @throws UnprocessableError */
export function queryInt(c: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UnprocessableError(`${name} must be an integer ${min}–${max}`);
  return n;
}

/**
 * Require a scope (Nakadi-path callers) or the grant on `eventType` (platform identities),
 * then an authorization list.
 */
export function allow(
  c: Context<BusEnv>,
  scope: string | undefined,
  list: AuthorizationAttribute[] | undefined,
  operation: 'admin' | 'read' | 'write',
  resource: string,
  eventType?: string,
): void {
  const subject = subjectOf(c);
  if (scope) requireScope(subject, scope);
  authorize(subject, list, operation, resource, eventType);
}

export type { EventBus };
