export {
  BackendError,
  ConfigError,
  ConflictError,
  errorMessage,
  InvalidInputError,
  NotFoundError,
  SluiceError,
} from './errors.js';
export { isNetworkErrorCode } from './net.js';
export { isSecretKey, redactText, redactUrl, redactValue } from './redact.js';
