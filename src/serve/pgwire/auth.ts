/**
 * Who may connect: users of the auth store (the same users as every other surface, SCRAM
 * verifiers stored at rest), users of the `pgwire` config section (a fallback without
 * per-table grants), and the loopback trust user; SCRAM-SHA-256 (RFC 5802, RFC 7677) or
 * cleartext passwords.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type AuthStore,
  LOCAL_PRINCIPAL,
  type Principal,
  parseScramVerifier,
  type SqlPolicyOptions,
} from '../../auth/index.js';
import type { MetaStore } from '../../metastore/index.js';
import { isLoopback } from '../server.js';
import { ProtocolError } from './sqlstate.js';

/** A user allowed to connect with a password. */
export interface PgUser {
  name: string;
  password: string;
  /** Read-only users cannot write (SQLSTATE 42501). */
  readOnly?: boolean;
}

/** Authentication settings of the server. */
export interface PgAuthOptions {
  /** Password users; connecting with any other name fails (28P01). */
  users: PgUser[];
  /** How passwords are checked: SCRAM-SHA-256 (default) or a cleartext password message. */
  method?: 'scram-sha-256' | 'password';
  /** A user name admitted without a password from loopback addresses only (e.g. "sluice"); unset = none. */
  trustLoopbackUser?: string;
  /**
   * The auth store: its users log in (before config users of the same name), their sessions
   * run under the per-table SQL policy, and admins may GRANT/REVOKE.
   */
  store?: AuthStore;
  /** The SQL policy settings (the `auth` section). */
  policy?: SqlPolicyOptions;
  /** Where audit rows go (logins, statements, grants). */
  audit?: MetaStore;
}

/** What the connection must do to authenticate a startup. */
export type AuthPlan =
  | { kind: 'trust'; readOnly: boolean; principal?: Principal }
  | { kind: 'password'; user: PgUser | undefined; storeUser?: string }
  | { kind: 'scram'; user: PgUser | undefined; keys?: ScramKeys; storeUser?: string };

const ITERATIONS = 4096;

interface ScramKeys {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Users and their SCRAM keys (derived once per server, not per connection). */
export class Authenticator {
  #users = new Map<string, PgUser>();
  #keys = new Map<string, ScramKeys>();
  #fakeSalt = randomBytes(16);

  constructor(readonly options: PgAuthOptions) {
    for (const user of options.users) this.#users.set(user.name, user);
  }

  /** Decide how a startup for `userName` from `address` authenticates. */
  async plan(userName: string, address: string): Promise<AuthPlan> {
    const stored = await this.#storeKeys(userName);
    const user = stored ? undefined : this.#users.get(userName);
    const loopback = isLoopback(address.replace(/^::ffff:/, ''));
    if (!stored && !user && loopback && userName === this.options.trustLoopbackUser) {
      return { kind: 'trust', readOnly: false, principal: this.options.store ? LOCAL_PRINCIPAL : undefined };
    }
    const storeUser = stored ? userName : undefined;
    if (this.options.method === 'password') return { kind: 'password', user, storeUser };
    return { kind: 'scram', user, keys: stored ?? (user ? this.#keysOf(user) : undefined), storeUser };
  }

  /** The SCRAM keys of an auth-store user who may log in with a password. */
  async #storeKeys(name: string): Promise<ScramKeys | undefined> {
    const text = await this.options.store?.scramVerifierOf(name);
    return text ? parseScramVerifier(text) : undefined;
  }

  /** Check a cleartext password in constant time. */
  checkPassword(user: PgUser | undefined, password: string): boolean {
    const want = createHash('sha256')
      .update(user?.password ?? randomBytes(16))
      .digest();
    const got = createHash('sha256').update(password).digest();
    return user !== undefined && timingSafeEqual(want, got);
  }

  /** Begin a SCRAM exchange; unknown users get a fake salt so names cannot be probed. */
  scram(keys: ScramKeys | undefined): ScramExchange {
    return new ScramExchange(keys, this.#fakeSalt);
  }

  #keysOf(user: PgUser): ScramKeys {
    let keys = this.#keys.get(user.name);
    if (!keys) {
      const salt = randomBytes(16);
      const salted = pbkdf2Sync(user.password.normalize('NFKC'), salt, ITERATIONS, 32, 'sha256');
      keys = {
        iterations: ITERATIONS,
        salt,
        storedKey: createHash('sha256').update(hmac(salted, 'Client Key')).digest(),
        serverKey: hmac(salted, 'Server Key'),
      };
      this.#keys.set(user.name, keys);
    }
    return keys;
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0] as string, part.slice(2));
  }
  return out;
}

function failed(): ProtocolError {
  return new ProtocolError('28P01', 'password authentication failed', true);
}

/** One SCRAM-SHA-256 exchange: client-first → server-first, client-final → server-final. */
export class ScramExchange {
  #clientFirstBare = '';
  #serverFirst = '';
  #nonce = '';
  #gs2 = '';

  constructor(
    readonly keys: ScramKeys | undefined,
    readonly fakeSalt: Buffer,
  ) {}

  /** @throws ProtocolError 08P01 on a malformed message */
  first(clientFirst: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/.exec(clientFirst);
    if (!m || m[1]?.startsWith('p=')) {
      throw new ProtocolError(
        '08P01',
        'malformed SCRAM client-first-message (channel binding is not offered)',
        true,
      );
    }
    this.#gs2 = `${m[1]},${m[2]},`;
    this.#clientFirstBare = m[3] as string;
    const clientNonce = attributes(this.#clientFirstBare).get('r');
    if (!clientNonce) throw new ProtocolError('08P01', 'SCRAM client-first-message without a nonce', true);
    this.#nonce = clientNonce + randomBytes(18).toString('base64');
    const salt = (this.keys?.salt ?? this.fakeSalt).toString('base64');
    this.#serverFirst = `r=${this.#nonce},s=${salt},i=${this.keys?.iterations ?? ITERATIONS}`;
    return this.#serverFirst;
  }

  /** Verify the proof; returns the server-final message. @throws ProtocolError 28P01 */
  final(clientFinal: string): string {
    const attrs = attributes(clientFinal);
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt < 0 || attrs.get('r') !== this.#nonce) throw failed();
    if (attrs.get('c') !== Buffer.from(this.#gs2).toString('base64')) throw failed();
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${clientFinal.slice(0, proofAt)}`;
    if (!this.keys || proof.length !== 32) throw failed();
    const signature = createHmac('sha256', this.keys.storedKey).update(authMessage).digest();
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (signature[i] as number);
    const stored = createHash('sha256').update(clientKey).digest();
    if (!timingSafeEqual(stored, this.keys.storedKey)) throw failed();
    const serverSignature = createHmac('sha256', this.keys.serverKey).update(authMessage).digest();
    return `v=${serverSignature.toString('base64')}`;
  }
}
