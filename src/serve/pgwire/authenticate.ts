/**
 * The authentication exchange of a startup: trust, cleartext password or SCRAM-SHA-256,
 * ending with an engine session for the user.
 */
import type { EngineSession } from '../../engine/types.js';
import type { PgConnection } from './connection.js';
import { backend, MessageReader, violation } from './messages.js';
import type { SocketReader } from './socket-reader.js';
import { ProtocolError } from './sqlstate.js';

const AUTH_MESSAGE_MAX = 16 * 1024;

/** Authenticate the startup's user and open their engine session. @throws ProtocolError 28P01/28000 */
export async function authenticate(
  conn: PgConnection,
  startup: Map<string, string>,
  reader: SocketReader,
): Promise<EngineSession> {
  const name = startup.get('user') as string;
  const { auth } = conn.ctx;
  const plan = auth.plan(name, conn.address);
  let readOnly = false;
  if (plan.kind === 'trust') {
    readOnly = plan.readOnly;
  } else if (plan.kind === 'password') {
    await conn.send(backend.authCleartext());
    const password = new MessageReader(await expect(reader, 'p')).cstring();
    if (!auth.checkPassword(plan.user, password)) throw failed(name);
    readOnly = plan.user?.readOnly ?? false;
  } else {
    await conn.send(backend.authSasl(['SCRAM-SHA-256']));
    const initial = new MessageReader(await expect(reader, 'p'));
    const mechanism = initial.cstring();
    if (mechanism !== 'SCRAM-SHA-256') {
      throw new ProtocolError('28000', `unsupported SASL mechanism "${mechanism}": use SCRAM-SHA-256`, true);
    }
    const len = initial.int32();
    const exchange = auth.scram(plan.user);
    const serverFirst = exchange.first(initial.bytes(len).toString('utf8'));
    await conn.send(backend.authSaslContinue(serverFirst));
    const clientFinal = new MessageReader(await expect(reader, 'p')).rest().toString('utf8');
    let serverFinal: string;
    try {
      serverFinal = exchange.final(clientFinal);
    } catch (err) {
      if (err instanceof ProtocolError && err.sqlstate === '28P01') throw failed(name);
      throw err;
    }
    await conn.send(backend.authSaslFinal(serverFinal));
    readOnly = plan.user?.readOnly ?? false;
  }
  conn.ctx.log.debug({ user: name, method: plan.kind }, 'pgwire client authenticated');
  return conn.ctx.engine.openSession({ name, readOnly });
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
