/**
 * The authentication exchange of a startup: trust, cleartext password or SCRAM-SHA-256,
 * ending with an engine session for the user.
 */
import { AuthenticationError, type Principal, recordAudit } from '../../auth/index.js';
import type { EngineSession } from '../../engine/types.js';
import { openUserSession } from '../sql-session.js';
import type { AuthPlan } from './auth.js';
import type { PgConnection } from './connection.js';
import { backend, MessageReader, violation } from './messages.js';
import type { SocketReader } from './socket-reader.js';
import { ProtocolError } from './sqlstate.js';

const AUTH_MESSAGE_MAX = 16 * 1024;

/** An authenticated connection: its engine session, and its principal when it is an auth-store user. */
export interface Authenticated {
  session: EngineSession;
  principal?: Principal;
}

/** Authenticate the startup's user and open their engine session. @throws ProtocolError 28P01/28000 */
export async function authenticate(
  conn: PgConnection,
  startup: Map<string, string>,
  reader: SocketReader,
): Promise<Authenticated> {
  const name = startup.get('user') as string;
  const { auth } = conn.ctx;
  const plan = await auth.plan(name, conn.address);
  try {
    const done = await exchange(conn, plan, name, reader);
    await audit(conn, done.principal ?? { name, via: 'password' }, 'ok', { method: plan.kind });
    conn.ctx.log.debug({ user: name, method: plan.kind }, 'pgwire client authenticated');
    const { store, policy, audit: meta } = auth.options;
    if (done.principal && store && meta) {
      const session = await openUserSession(conn.ctx.engine, done.principal, {
        store,
        policy: policy ?? {},
        surface: 'pgwire',
        remote: conn.address,
        audit: meta,
        log: conn.ctx.log,
      });
      return { session, principal: done.principal };
    }
    return { session: await conn.ctx.engine.openSession({ name, readOnly: done.readOnly }) };
  } catch (err) {
    if (err instanceof ProtocolError && err.sqlstate === '28P01')
      await audit(conn, { name, via: 'anonymous' }, 'denied', { reason: err.message });
    throw err;
  }
}

/** Run the plan's exchange with the client. @throws ProtocolError 28P01 for a wrong password */
async function exchange(
  conn: PgConnection,
  plan: AuthPlan,
  name: string,
  reader: SocketReader,
): Promise<{ readOnly: boolean; principal?: Principal }> {
  const { auth } = conn.ctx;
  const store = auth.options.store;
  if (plan.kind === 'trust') return { readOnly: plan.readOnly, principal: plan.principal };
  if (plan.kind === 'password') {
    await conn.send(backend.authCleartext());
    const password = new MessageReader(await expect(reader, 'p')).cstring();
    if (plan.storeUser && store) {
      try {
        return { readOnly: false, principal: await store.authenticatePassword(plan.storeUser, password) };
      } catch (err) {
        if (err instanceof AuthenticationError) throw failed(name);
        throw err;
      }
    }
    if (!auth.checkPassword(plan.user, password)) throw failed(name);
    return { readOnly: plan.user?.readOnly ?? false };
  }
  await conn.send(backend.authSasl(['SCRAM-SHA-256']));
  const initial = new MessageReader(await expect(reader, 'p'));
  const mechanism = initial.cstring();
  if (mechanism !== 'SCRAM-SHA-256') {
    throw new ProtocolError('28000', `unsupported SASL mechanism "${mechanism}": use SCRAM-SHA-256`, true);
  }
  const len = initial.int32();
  const scram = auth.scram(plan.keys);
  const serverFirst = scram.first(initial.bytes(len).toString('utf8'));
  await conn.send(backend.authSaslContinue(serverFirst));
  const clientFinal = new MessageReader(await expect(reader, 'p')).rest().toString('utf8');
  let serverFinal: string;
  try {
    serverFinal = scram.final(clientFinal);
  } catch (err) {
    if (err instanceof ProtocolError && err.sqlstate === '28P01') throw failed(name);
    throw err;
  }
  await conn.send(backend.authSaslFinal(serverFinal));
  if (plan.storeUser && store)
    return { readOnly: false, principal: await store.principalOf(name, 'password') };
  return { readOnly: plan.user?.readOnly ?? false };
}

async function audit(
  conn: PgConnection,
  principal: { name: string; via: string },
  outcome: 'ok' | 'denied',
  detail: Record<string, unknown>,
): Promise<void> {
  const meta = conn.ctx.auth.options.audit;
  if (!meta) return;
  await recordAudit(meta, [
    { principal, surface: 'pgwire', action: 'authenticate', outcome, remote: conn.address, detail },
  ]).catch((err: unknown) => conn.ctx.log.warn({ err }, 'writing an audit row failed'));
}

async function expect(reader: SocketReader, type: string): Promise<Buffer> {
  const frame = await reader.message(AUTH_MESSAGE_MAX);
  if (frame.type !== type)
    throw violation(`expected an authentication response, got message type ${JSON.stringify(frame.type)}`);
  return frame.body;
}

function failed(user: string): ProtocolError {
  return new ProtocolError('28P01', `password authentication failed for user "${user}"`, true);
}
