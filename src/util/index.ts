export { type Actor, currentActor, localUser, withActor } from './actor.js';
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
export { processAlive } from './process.js';
export { isSecretKey, redactText, redactUrl, redactValue } from './redact.js';
export { assertReachableUrl, isForbiddenAddress } from './ssrf.js';
export { packageVersion } from './version.js';
