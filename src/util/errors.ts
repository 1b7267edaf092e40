/**
 * One error family for the whole product. Every error a user can see carries a stable
 * `code` (for scripts and HTTP/SQLSTATE mapping), a message saying what happened, and
 * optionally a hint saying what to do about it.
 */
export class SluiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    opts?: ErrorOptions,
  ) {
    super(hint ? `${message}\n  hint: ${hint}` : message, opts);
    this.name = new.target.name;
  }
}

/** A problem in a project file; the message starts with `file:line:column`. */
export class ConfigError extends SluiceError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    message: string,
    hint?: string,
    opts?: ErrorOptions,
  ) {
    const where = line ? `${file}:${line}${column ? `:${column}` : ''}` : file;
    super('config_invalid', `${where}: ${message}`, hint, opts);
  }
}

/** Something named by the user does not exist (table, object, namespace, job...). */
export class NotFoundError extends SluiceError {
  constructor(message: string, hint?: string, opts?: ErrorOptions) {
    super('not_found', message, hint, opts);
  }
}

/** An optimistic-concurrency check failed: says what was expected and what was found. */
export class ConflictError extends SluiceError {
  constructor(message: string, hint?: string, opts?: ErrorOptions) {
    super('conflict', message, hint, opts);
  }
}

/** Input from a user or a client is malformed or not allowed. */
export class InvalidInputError extends SluiceError {
  constructor(message: string, hint?: string, opts?: ErrorOptions) {
    super('invalid_input', message, hint, opts);
  }
}

/** A backend (database, object store, network peer) failed or could not be reached. */
export class BackendError extends SluiceError {
  constructor(message: string, hint?: string, opts?: ErrorOptions) {
    super('backend_unavailable', message, hint, opts);
  }
}

/** The user may not do this (a read-only user writing, for example); SQLSTATE 42501. */
export class PermissionError extends SluiceError {
  /** insufficient_privilege, for SQL surfaces. */
  readonly sqlState = '42501';
  constructor(message: string, hint?: string, opts?: ErrorOptions) {
    super('forbidden', message, hint, opts);
  }
}

/** The message of any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The HTTP status of each stable error code, shared by every HTTP surface; unknown codes are 500s. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  invalid_input: 400,
  config_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unsupported_operation: 406,
  conflict: 409,
  payload_too_large: 413,
  unprocessable_entity: 422,
  rate_limited: 429,
  backend_unavailable: 503,
});
