import { SluiceError } from '../util/index.js';

/** No credentials, or credentials that do not prove who the caller is (HTTP 401, SQLSTATE 28000/28P01). */
export class AuthenticationError extends SluiceError {
  constructor(message: string, hint?: string) {
    super('unauthorized', message, hint);
  }
}
