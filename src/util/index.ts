export {
  BackendError,
  ConfigError,
  ConflictError,
  errorMessage,
  HTTP_STATUS_BY_CODE,
  InvalidInputError,
  NotFoundError,
  PermissionError,
  SluiceError,
} from './errors.js';
export { isNetworkErrorCode } from './net.js';
export { isSecretKey, redactText, redactUrl, redactValue } from './redact.js';
export { packageVersion } from './version.js';
