/**
 * The client side of SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it over SASL: the
 * first message, the proof for the server's challenge, and the check of the server's signature.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { BackendError } from '../../util/index.js';

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

/** One SCRAM exchange from the client's side. */
export class ScramClient {
  readonly #password: string;
  readonly #nonce = randomBytes(18).toString('base64');
  #serverSignature: Buffer | undefined;

  constructor(password: string) {
    this.#password = password;
  }

  /** The client-first message (the user name travels in the startup packet, as PostgreSQL expects). */
  first(): string {
    return `n,,n=,r=${this.#nonce}`;
  }

  /**
   * The client-final message for the server-first message.
   * @throws BackendError when the server's nonce or parameters are malformed.
   */
  final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((p) => [p[0], p.slice(2)] as const));
    const nonce = attrs.get('r') ?? '';
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce.startsWith(this.#nonce) || !salt || !Number.isInteger(iterations) || iterations < 1)
      throw new BackendError('the server sent a malformed SCRAM challenge');
    const salted = pbkdf2Sync(
      this.#password.normalize('NFKC'),
      Buffer.from(salt, 'base64'),
      iterations,
      32,
      'sha256',
    );
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `n=,r=${this.#nonce},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] ?? 0) ^ (signature[i] ?? 0);
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** @throws BackendError when the server cannot prove it knows the password. */
  verify(serverFinal: string): void {
    const v = serverFinal.split(',').find((p) => p.startsWith('v='));
    const got = Buffer.from(v?.slice(2) ?? '', 'base64');
    const want = this.#serverSignature;
    if (!want || got.length !== want.length || !timingSafeEqual(got, want))
      throw new BackendError('the PostgreSQL server failed SCRAM verification', 'check the server address');
  }
}
