/** Errors of the Iceberg REST server as the specification's ErrorModel (`{ error: { message, type, code } }`). */
import { errorMessage, HTTP_STATUS_BY_CODE, redactText, SluiceError } from '../../util/index.js';
import { icebergTypeOf } from '../errors.js';

/** The request is well-formed but contradicts itself (a key both removed and updated). */
export class UnprocessableError extends SluiceError {
  readonly icebergType = 'UnprocessableEntityException';
  constructor(message: string, hint?: string) {
    super('unprocessable_entity', message, hint);
  }
}

/** The server does not support the operation. */
export class UnsupportedOperationError extends SluiceError {
  readonly icebergType = 'UnsupportedOperationException';
  constructor(message: string, hint?: string) {
    super('unsupported_operation', message, hint);
  }
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'BadRequestException',
  401: 'NotAuthorizedException',
  403: 'ForbiddenException',
  404: 'NotFoundException',
  405: 'BadRequestException',
  406: 'UnsupportedOperationException',
  409: 'AlreadyExistsException',
  413: 'BadRequestException',
  422: 'UnprocessableEntityException',
  429: 'SlowDownException',
  503: 'ServiceUnavailableException',
};

/** An error as the REST server reports it. */
export interface IcebergErrorInfo {
  status: number;
  type: string;
  message: string;
  /** False for unexpected errors: logged with their stack, reported generically. */
  expected: boolean;
}

/**
 * Map an error to its ErrorModel. In commit routes, a server-side failure may have happened
 * after the pointer moved, so it is reported as CommitStateUnknownException (clients then
 * keep the files they wrote) and conflicts as CommitFailedException.
 */
export function icebergErrorInfo(err: unknown, o: { commit?: boolean } = {}): IcebergErrorInfo {
  let status = 500;
  let expected = false;
  let message = 'internal error (see the server log)';
  if (err instanceof SluiceError && err.code in HTTP_STATUS_BY_CODE) {
    status = HTTP_STATUS_BY_CODE[err.code] as number;
    expected = true;
    message = redactText(err.message);
  } else {
    const s = (err as { status?: unknown } | null)?.status;
    if (typeof s === 'number' && s >= 400 && s < 500) {
      status = s;
      expected = true;
      message = redactText(errorMessage(err));
    }
  }
  if (status >= 500 && o.commit) {
    return { status: 500, type: 'CommitStateUnknownException', message, expected };
  }
  const fallback = status === 409 && o.commit ? 'CommitFailedException' : TYPE_BY_STATUS[status];
  return { status, type: icebergTypeOf(err) ?? fallback ?? 'InternalServerError', message, expected };
}

/** The ErrorModel body for an error. */
export function errorBody(info: IcebergErrorInfo): {
  error: { message: string; type: string; code: number };
} {
  return { error: { message: info.message, type: info.type, code: info.status } };
}
