/**
 * One client connection: startup (SSLRequest, CancelRequest), authentication, then the
 * message loop of the simple and extended query protocols. Any protocol violation is
 * reported with an ErrorResponse and closes this connection only.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Principal } from '../../auth/index.js';
import type { Engine, EngineSession } from '../../engine/types.js';
import type { Logger } from '../../observe/index.js';
import type { Authenticator } from './auth.js';
import { authenticate } from './authenticate.js';
import { Cursors } from './cursors.js';
import { ExtendedProtocol } from './extended.js';
import { grantAnswer } from './grant.js';
import { backend, MessageReader, violation } from './messages.js';
import { type GrantHandler, SessionSettings } from './plan.js';
import { runSimpleQuery } from './simple.js';
import { ConnectionClosed, SocketReader } from './socket-reader.js';
import { ProtocolError, wireError } from './sqlstate.js';

const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** What every connection shares with its server. */
export interface ConnectionContext {
  engine: Engine;
  auth: Authenticator;
  log: Logger;
  tls?: SecureContext;
  maxMessageBytes: number;
  startupTimeoutMs: number;
  /** Register a connection for CancelRequest; returns its process id and secret. */
  register(conn: PgConnection): { pid: number; secret: number };
  unregister(pid: number): void;
  /** Deliver a CancelRequest. */
  cancel(pid: number, secret: number): void;
  onQuery?(ok: boolean): void;
}

/** State shared by the query protocols of one connection. */
export interface QueryContext {
  session: EngineSession;
  settings: SessionSettings;
  /** Setting values last sent with ParameterStatus. */
  reported: Map<string, string>;
  /** Open SQL cursors (DECLARE ... CURSOR). */
  cursors: Cursors;
  /** Transaction status reported in ReadyForQuery. */
  status: 'I' | 'T' | 'E';
  /** GRANT/REVOKE for auth-store users. */
  grants?: GrantHandler;
  send(chunk: Buffer): Promise<void>;
  /** A fresh AbortSignal for the next statement (aborted by CancelRequest). */
  statementSignal(): AbortSignal;
  onQuery?(ok: boolean): void;
}

/** A client connection from accept to close. */
export class PgConnection {
  #socket: Socket | TLSSocket;
  #reader: SocketReader;
  #running: AbortController | undefined;
  #pid = 0;
  #closed = false;

  constructor(
    socket: Socket,
    readonly ctx: ConnectionContext,
  ) {
    this.#socket = socket;
    this.#reader = new SocketReader(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
  }

  /** The remote address (for logs and the loopback rule). */
  get address(): string {
    return this.#socket.remoteAddress ?? '';
  }

  /** Serve the connection until it closes; never throws. */
  async serve(): Promise<void> {
    const log = this.ctx.log.child({ client: this.address });
    let session: EngineSession | undefined;
    let principal: Principal | undefined;
    const timer = setTimeout(() => this.#socket.destroy(), this.ctx.startupTimeoutMs);
    timer.unref();
    try {
      const startup = await this.#startup();
      if (!startup) return;
      ({ session, principal } = await authenticate(this, startup, this.#reader));
      clearTimeout(timer);
      const { pid, secret } = this.ctx.register(this);
      this.#pid = pid;
      await this.#ready(startup, session, pid, secret, principal);
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) {
        const wire = wireError(err);
        if (wire.sqlstate === 'XX000') log.warn({ err }, 'pgwire connection failed');
        else
          log.debug(
            { sqlstate: wire.sqlstate, message: wire.message },
            'pgwire connection closed with an error',
          );
        await this.send(backend.error({ ...wire, severity: 'FATAL' })).catch(() => {});
      }
    } finally {
      clearTimeout(timer);
      this.#running?.abort();
      if (this.#pid) this.ctx.unregister(this.#pid);
      await session?.close().catch((err: unknown) => log.warn({ err }, 'closing an engine session failed'));
      this.close();
    }
  }

  /** Abort the running statement (CancelRequest). */
  cancel(): void {
    this.#running?.abort(new ProtocolError('57014', 'canceling statement due to user request'));
  }

  /** Close the socket once pending writes are flushed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.end();
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /** Write one chunk, resolving when the socket accepts more (backpressure). */
  send(chunk: Buffer): Promise<void> {
    if (this.#socket.destroyed) return Promise.reject(new ConnectionClosed());
    if (this.#socket.write(chunk)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        if (this.#socket.destroyed) reject(new ConnectionClosed());
        else resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  /** Startup parameters, or undefined after a CancelRequest. */
  async #startup(): Promise<Map<string, string> | undefined> {
    for (;;) {
      const packet = new MessageReader(await this.#reader.startupPacket());
      const code = packet.int32();
      if (code === CANCEL_REQUEST) {
        this.ctx.cancel(packet.int32(), packet.int32());
        return undefined;
      }
      if (code === SSL_REQUEST || code === GSS_REQUEST) {
        if (this.#reader.buffered > 0) throw violation('data received after an encryption request');
        const tls = code === SSL_REQUEST ? this.ctx.tls : undefined;
        await this.send(Buffer.from(tls ? 'S' : 'N'));
        if (tls) this.#upgrade(tls);
        continue;
      }
      if (code >> 16 !== 3) {
        throw new ProtocolError(
          '0A000',
          `unsupported frontend protocol ${code >> 16}.${code & 0xffff}: this server speaks 3.0`,
          true,
        );
      }
      const params = new Map<string, string>();
      for (;;) {
        const key = packet.cstring();
        if (key === '') break;
        params.set(key, packet.cstring());
      }
      if (!params.get('user'))
        throw new ProtocolError('28000', 'no PostgreSQL user name specified in startup packet', true);
      const unknown = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
      if (code !== PROTOCOL_3 || unknown.length > 0)
        await this.send(backend.negotiateProtocol(PROTOCOL_3, unknown));
      return params;
    }
  }

  #upgrade(context: SecureContext): void {
    this.#reader.detach();
    const tls = new TLSSocket(this.#socket as Socket, { isServer: true, secureContext: context });
    tls.on('error', () => {});
    this.#socket = tls;
    this.#reader.attach(tls);
  }

  async #ready(
    startup: Map<string, string>,
    session: EngineSession,
    pid: number,
    secret: number,
    principal?: Principal,
  ): Promise<void> {
    const settings = new SessionSettings();
    const app = startup.get('application_name');
    if (app) settings.values.set('application_name', app);
    settings.values.set('session_authorization', session.user.name);
    settings.values.set('is_superuser', session.user.readOnly ? 'off' : 'on');
    settings.values.set('default_transaction_read_only', session.user.readOnly ? 'on' : 'off');
    const out: Buffer[] = [backend.authOk()];
    const reported = new Map<string, string>();
    for (const [key, name] of Object.entries(SessionSettings.REPORTED)) {
      reported.set(key, settings.get(key) ?? '');
      out.push(backend.parameterStatus(name, settings.get(key) ?? ''));
    }
    out.push(backend.backendKeyData(pid, secret), backend.readyForQuery('I'));
    await this.send(Buffer.concat(out));
    const q: QueryContext = {
      session,
      settings,
      reported,
      cursors: new Cursors(),
      status: 'I',
      grants: grantsOf(this.ctx.auth, principal, this.address),
      send: (chunk) => this.send(chunk),
      statementSignal: () => {
        this.#running = new AbortController();
        return this.#running.signal;
      },
      onQuery: this.ctx.onQuery,
    };
    const extended = new ExtendedProtocol(q);
    try {
      for (;;) {
        const { type, body } = await this.#reader.message(this.ctx.maxMessageBytes);
        if (type === 'X') return;
        if (type === 'Q') {
          const sql = new MessageReader(body).cstring();
          await runSimpleQuery(q, sql);
          await this.send(backend.readyForQuery(q.status));
        } else if ('PBDECSH'.includes(type)) {
          await extended.handle(type, new MessageReader(body));
        } else if (type === 'd' || type === 'c' || type === 'f') {
          // CopyData/CopyDone/CopyFail outside COPY FROM: ignored, as PostgreSQL does.
        } else {
          throw violation(`invalid frontend message type ${JSON.stringify(type)}`);
        }
      }
    } finally {
      await extended.closeAll();
      await q.cursors.close();
    }
  }
}

/** A random non-zero secret for BackendKeyData. */
export function newSecret(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/** GRANT/REVOKE of an auth-store user's connection (refused later unless they administer). */
function grantsOf(
  auth: Authenticator,
  principal: Principal | undefined,
  remote: string,
): GrantHandler | undefined {
  const { store, audit } = auth.options;
  if (!principal || !store) return undefined;
  return (text) => grantAnswer(text, principal, store, audit, remote);
}
