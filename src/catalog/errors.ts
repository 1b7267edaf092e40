/**
 * Catalog errors. Each carries the exception type name of the Iceberg REST specification
 * (`icebergType`), so the REST server reports what Java, PyIceberg and Spark clients expect.
 */
import { ConflictError, NotFoundError } from '../util/index.js';

/** A namespace does not exist. */
export class NoSuchNamespaceError extends NotFoundError {
  readonly icebergType = 'NoSuchNamespaceException';
}

/** A table does not exist. */
export class NoSuchTableError extends NotFoundError {
  readonly icebergType = 'NoSuchTableException';
}

/** A view does not exist. */
export class NoSuchViewError extends NotFoundError {
  readonly icebergType = 'NoSuchViewException';
}

/** A namespace or table of that name exists already. */
export class AlreadyExistsError extends ConflictError {
  readonly icebergType = 'AlreadyExistsException';
}

/** A namespace cannot be dropped while it holds tables or namespaces. */
export class NamespaceNotEmptyError extends ConflictError {
  readonly icebergType = 'NamespaceNotEmptyException';
}

/** A commit requirement failed, or the table kept changing concurrently: reload and retry. */
export class CommitFailedError extends ConflictError {
  readonly icebergType = 'CommitFailedException';
}

/** The Iceberg REST exception type of a catalog error, if it has one. */
export function icebergTypeOf(err: unknown): string | undefined {
  const t = (err as { icebergType?: unknown } | null)?.icebergType;
  return typeof t === 'string' ? t : undefined;
}
