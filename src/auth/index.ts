export {
  AUDIT_TABLE,
  type AuditEvent,
  type AuditSurface,
  LOGIN_AUDIT_INTERVAL_MS,
  loginAuditor,
  recordAudit,
  statementHash,
} from './audit.js';
export {
  type Authenticator,
  type AuthenticatorOptions,
  createAuthenticator,
  isLoopbackAddress,
  LOCAL_PRINCIPAL,
} from './authenticate.js';
export { AuthenticationError } from './errors.js';
export { createJwtVerifier, type JwtOptions, looksLikeJwt } from './jwt.js';
export * from './passwords.js';
export * from './policy.js';
export {
  mayWriteSomething,
  piiColumnsOf,
  type SqlPolicyOptions,
  sqlAccessHook,
  TABLE_PROPERTIES,
} from './sql-access.js';
export { AuthStore, type TokenInfo, type UserInfo } from './store.js';
export { looksLikeToken, newToken, parseToken } from './tokens.js';
