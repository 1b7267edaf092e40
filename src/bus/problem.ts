/**
 * Errors of the Nakadi API as Problem JSON (RFC 7807, application/problem+json), the shape
 * Nakadi clients parse: `{ type, title, status, detail }`.
 */
import type { Context } from 'hono';
import { HTTP_STATUS_BY_CODE, redactText, SluiceError } from '../util/index.js';

/** A request the bus understood but cannot apply (Nakadi's 422). */
export class UnprocessableError extends SluiceError {
  constructor(message: string, hint?: string, opts?: ErrorOptions) {
    super('unprocessable_entity', message, hint, opts);
  }
}

/** No or an invalid bearer token (401). */
export class UnauthorizedError extends SluiceError {
  constructor(message: string, opts?: ErrorOptions) {
    super('unauthorized', message, undefined, opts);
  }
}

/** Authenticated, but missing a scope or not on an authorization list (403). */
export class ForbiddenError extends SluiceError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** A request body over the configured limit (413). */
export class PayloadTooLargeError extends SluiceError {
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A Problem JSON document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

/** The Problem document for a status and detail. */
export function problemOf(status: number, detail?: string): Problem {
  const problem: Problem = {
    type: `https://httpstatus.es/${status}`,
    title: TITLES[status] ?? 'Error',
    status,
  };
  if (detail) problem.detail = detail;
  return problem;
}

/** Respond with a Problem JSON document. */
export function problemResponse(c: Context, status: number, detail?: string): Response {
  return c.body(JSON.stringify(problemOf(status, detail)), status as 400, {
    'content-type': 'application/problem+json',
  });
}

/** The status and detail an error becomes; unexpected errors are 500 without their message. */
export function problemFromError(err: unknown): { status: number; detail: string; expected: boolean } {
  if (err instanceof SluiceError) {
    const status = HTTP_STATUS_BY_CODE[err.code] ?? 500;
    return { status, detail: redactText(err.message.split('\n')[0] ?? ''), expected: status < 500 };
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, detail: redactText((err as Error).message), expected: true };
  }
  return { status: 500, detail: 'internal error (see the server log)', expected: false };
}
