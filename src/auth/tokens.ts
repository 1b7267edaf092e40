/**
 * Service tokens: opaque strings `sluice_<id>_<secret>`. Only a SHA-256 of the secret is
 * stored; the id finds the row, the hash is compared in constant time.
 */
import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'sluice_';
const TOKEN = /^sluice_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** A new token: its id (public, shown in listings) and the full secret string (shown once). */
export function newToken(): { id: string; secret: string; hash: string } {
  const id = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  return { id, secret: `${PREFIX}${id}_${secret}`, hash: hashSecret(secret) };
}

/** The id and secret part of a token string, or undefined when it is not one of ours. */
export function parseToken(text: string): { id: string; hash: string } | undefined {
  const m = TOKEN.exec(text.trim());
  if (!m) return undefined;
  return { id: m[1] as string, hash: hashSecret(m[2] as string) };
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** True when the text looks like a Sluice token (for redaction and error messages). */
export function looksLikeToken(text: string): boolean {
  return text.startsWith(PREFIX);
}
