import { errorMessage, HTTP_STATUS_BY_CODE, redactText, SluiceError } from '../util/index.js';

/** An error as an HTTP surface reports it: status, stable code, redacted message. */
export interface HttpErrorInfo {
  status: number;
  code: string;
  message: string;
  /** False for unexpected errors: log them with their stack, show a generic message. */
  expected: boolean;
}

export function httpErrorInfo(err: unknown): HttpErrorInfo {
  if (err instanceof SluiceError) {
    return {
      status: HTTP_STATUS_BY_CODE[err.code] ?? 500,
      code: err.code,
      message: redactText(err.message),
      expected: err.code in HTTP_STATUS_BY_CODE,
    };
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: 'invalid_request', message: redactText(errorMessage(err)), expected: true };
  }
  return {
    status: 500,
    code: 'internal_error',
    message: 'internal error (see the server log)',
    expected: false,
  };
}
