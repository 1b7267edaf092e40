/**
 * Password storage. Passwords are kept twice, never in clear: an argon2id hash (checked by
 * the HTTP surfaces and the CLI) and a SCRAM-SHA-256 verifier in PostgreSQL's own format
 * (checked by the PostgreSQL wire server, whose clients prove the password without sending it).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { argon2id, argon2Verify } from 'hash-wasm';
import { InvalidInputError } from '../util/index.js';

/** OWASP's recommended argon2id cost: 19 MiB, 2 passes, 1 lane. */
const ARGON = { memorySize: 19 * 1024, iterations: 2, parallelism: 1, hashLength: 32 };
/** PostgreSQL's default SCRAM iteration count. */
export const SCRAM_ITERATIONS = 4096;
/** Shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 8;

/** @throws InvalidInputError for a password that is too short or too long */
export function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new InvalidInputError(`the password is too short: at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > 1024)
    throw new InvalidInputError('the password is too long: at most 1024 characters');
}

/** The argon2id hash of a password, in the PHC string format (`$argon2id$v=19$m=...`). */
export async function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), ...ARGON, outputType: 'encoded' });
}

/** True when `password` matches the PHC hash. Never throws for a malformed hash (false). */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await argon2Verify({ password, hash });
  } catch {
    return false;
  }
}

/** A SCRAM-SHA-256 verifier: what a server stores to check SCRAM proofs. */
export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

function hmac(key: Buffer, text: string | Buffer): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/** The verifier of `password` (RFC 5802/7677), with a fresh salt unless one is given. */
export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): ScramVerifier {
  // SASLprep is skipped, as PostgreSQL does for passwords that are not valid UTF-8 input to it;
  // for ASCII passwords (the common case) it is the identity.
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return {
    iterations,
    salt,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** PostgreSQL's text form: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64). */
export function formatScramVerifier(v: ScramVerifier): string {
  return `SCRAM-SHA-256$${v.iterations}:${v.salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

/** @throws InvalidInputError for text that is not a SCRAM-SHA-256 verifier */
export function parseScramVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) throw new InvalidInputError('not a SCRAM-SHA-256 verifier');
  return {
    iterations: Number(m[1]),
    salt: Buffer.from(m[2] as string, 'base64'),
    storedKey: Buffer.from(m[3] as string, 'base64'),
    serverKey: Buffer.from(m[4] as string, 'base64'),
  };
}

/** Constant-time equality of two strings or buffers (false for different lengths). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = typeof a === 'string' ? Buffer.from(a) : a;
  const y = typeof b === 'string' ? Buffer.from(b) : b;
  return x.length === y.length && timingSafeEqual(x, y);
}
