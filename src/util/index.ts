export {
  BackendError,
  ConfigError,
  ConflictError,
  errorMessage,
  InvalidInputError,
  NotFoundError,
  SluiceError,
} from './errors.js';
export { isSecretKey, redactText, redactUrl, redactValue } from './redact.js';
