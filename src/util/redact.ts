/**
 * Secret redaction shared by logging, error messages and status output. Secrets are
 * passwords inside URLs, bearer tokens, and values of keys that look like credentials
 * (`password`, `token`, `secret`, `*_KEY`, `*_SECRET`, ...).
 */

const MASK = '***';

/** Key names whose values are secrets wherever they appear (config, env, JSON, headers). */
const SECRET_KEY =
  /(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|cookie|(^|_)key$)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Mask the password of a URL, keeping everything else readable. Non-URLs are returned as is. */
export function redactUrl(url: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]*):([^@/?#\s]*)@/i,
    (_m, scheme, user) => `${scheme}${user}:${MASK}@`,
  );
}

const URL_WITH_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]*):([^@/?#\s]+)@/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi;
const KEY_VALUE =
  /\b([A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|_KEY))(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)/gi;

/** Mask secrets found in free text: URL passwords, bearer tokens, `password=...` pairs. */
export function redactText(text: string): string {
  return text
    .replace(URL_WITH_PASSWORD, (_m, scheme, user) => `${scheme}${user}:${MASK}@`)
    .replace(BEARER, (_m, kind) => `${kind} ${MASK}`)
    .replace(KEY_VALUE, (_m, key, sep) => `${key}${sep}${MASK}`);
}

/** A deep copy of `value` with secret-named keys masked and secrets in strings redacted. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 20) return value;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v != null && typeof v !== 'object' ? MASK : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}
