import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestServer, type TestServer } from './harness.js';
import { errorFields, frontend, RawClient, readyClient, startupPacket } from './raw-client.js';

/** Deterministic pseudo-random bytes (xorshift), so a failing case can be replayed. */
function prng(seed: number) {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('wire protocol robustness', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ maxMessageBytes: 1024 * 1024 });
  });
  after(async () => {
    await t?.close();
  });

  async function stillServing(): Promise<void> {
    const client = new pg.Client({ connectionString: t.url() });
    await client.connect();
    const r = await client.query('SELECT count(*)::INTEGER AS n FROM shop.orders');
    assert.equal(r.rows[0].n, 3);
    await client.end();
  }

  async function fatal(c: RawClient): Promise<Record<string, string>> {
    const msgs = await c.untilClosed();
    const error = msgs.find((m) => m.type === 'E');
    assert.ok(error, `expected an ErrorResponse before close, got ${msgs.map((m) => m.type).join('')}`);
    return errorFields(error.body);
  }

  test('an oversize message length is refused with 08P01 and closes only that connection', async () => {
    const bystander = await readyClient(t.port);
    const c = await readyClient(t.port);
    const head = Buffer.alloc(5);
    head.write('Q');
    head.writeInt32BE(0x7fffffff, 1);
    c.write(head);
    const e = await fatal(c);
    assert.equal(e.C, '08P01');
    assert.match(e.M ?? '', /exceeds the limit of 1048576 bytes/);
    bystander.write(frontend('Q', 'SELECT 1\0'));
    const answer = await bystander.untilReady();
    assert.deepEqual(
      answer.map((m) => m.type),
      ['T', 'D', 'C', 'Z'],
    );
    bystander.end();
    await stillServing();
  });

  test('invalid lengths, unknown message types and bad startups are protocol violations', async () => {
    const short = await readyClient(t.port);
    short.write(Buffer.from([0x51, 0, 0, 0, 2]));
    assert.equal((await fatal(short)).C, '08P01');

    const unknown = await readyClient(t.port);
    unknown.write(frontend('@', 'x'));
    assert.match((await fatal(unknown)).M ?? '', /invalid frontend message type/);

    const badStartup = await RawClient.open(t.port);
    const packet = Buffer.alloc(8);
    packet.writeInt32BE(1_000_000, 0);
    badStartup.write(packet);
    assert.match((await fatal(badStartup)).M ?? '', /invalid startup packet length/);

    const oldProtocol = await RawClient.open(t.port);
    oldProtocol.write(startupPacket({ user: 'sluice' }, 2 << 16));
    assert.equal((await fatal(oldProtocol)).C, '0A000');

    const noUser = await RawClient.open(t.port);
    noUser.write(startupPacket({ database: 'x' }));
    assert.equal((await fatal(noUser)).C, '28000');

    const unterminated = await readyClient(t.port);
    unterminated.write(frontend('P', Buffer.from('name-without-terminator')));
    assert.equal((await fatal(unterminated)).C, '08P01');

    const lyingCount = await readyClient(t.port);
    lyingCount.write(frontend('B', Buffer.from([0, 0, 0x7f, 0xff])));
    assert.equal((await fatal(lyingCount)).C, '08P01');
    await stillServing();
  });

  test('SSLRequest is declined without TLS and the startup continues in plain text', async () => {
    const c = await RawClient.open(t.port);
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    c.write(ssl);
    assert.equal(await c.byte(), 'N');
    c.write(startupPacket({ user: 'sluice' }));
    const msgs = await c.untilReady();
    const status = msgs
      .filter((m) => m.type === 'S')
      .map((m) => m.body.toString().split('\0').slice(0, 2).join('='));
    assert.ok(status.includes('server_version=15.0'));
    assert.ok(status.includes('client_encoding=UTF8'));
    assert.ok(status.includes('DateStyle=ISO, MDY'));
    assert.ok(msgs.some((m) => m.type === 'K'));
    c.end();
  });

  test('SET reports changed settings with ParameterStatus', async () => {
    const c = await readyClient(t.port);
    c.write(frontend('Q', "SET application_name = 'nightly report'\0"));
    const msgs = await c.untilReady();
    assert.deepEqual(
      msgs.map((m) => m.type),
      ['S', 'C', 'Z'],
    );
    assert.equal(msgs[0]?.body.toString(), 'application_name\0nightly report\0');
    c.end();
  });

  test('truncated messages and early disconnects leave no session behind', async () => {
    for (let cut = 1; cut < 12; cut++) {
      const c = await readyClient(t.port);
      c.write(frontend('Q', 'SELECT 42\0').subarray(0, cut));
      c.end();
      await c.closed;
    }
    const halfway = await RawClient.open(t.port);
    halfway.write(startupPacket({ user: 'sluice' }).subarray(0, 10));
    halfway.end();
    await halfway.closed;
    await stillServing();
    for (let i = 0; i < 50 && t.engine.sessions > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.engine.sessions, 0);
  });

  test('a client that stops reading stops the query from pulling more rows', async () => {
    const c = await readyClient(t.port);
    const before = t.engine.batchesPulled;
    c.socket.pause();
    c.write(frontend('Q', "SELECT i, repeat('x', 100) AS pad FROM range(20000000) t(i)\0"));
    // Wait until the server has filled the socket buffers and stopped pulling.
    let last = before;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = t.engine.batchesPulled;
      if (now > before && now === last) break;
      last = now;
    }
    const pulled = t.engine.batchesPulled - before;
    assert.ok(pulled > 0, 'the query started');
    assert.ok(pulled < 2000, `pulled ${pulled} of ~9766 batches while the client read nothing`);
    c.socket.destroy();
    await stillServing();
  });

  test('a newer protocol minor version is negotiated down to 3.0', async () => {
    const c = await RawClient.open(t.port);
    c.write(startupPacket({ user: 'sluice', '_pq_.something': 'x' }, (3 << 16) | 2));
    const msgs = await c.untilReady();
    const negotiate = msgs.find((m) => m.type === 'v');
    assert.ok(negotiate, `expected NegotiateProtocolVersion, got ${msgs.map((m) => m.type).join('')}`);
    assert.equal(negotiate.body.readInt32BE(0), (3 << 16) | 0);
    assert.equal(negotiate.body.readInt32BE(4), 1);
    assert.equal(negotiate.body.subarray(8).toString(), '_pq_.something\0');
    assert.equal(msgs.at(-1)?.type, 'Z');
    c.end();
  });

  test('random messages never take the server down', async () => {
    const random = prng(20240601);
    const types = 'QPBDESCHXdcfp@\0zZ';
    const cases = Array.from({ length: 120 }, () => {
      const type = types[Math.floor(random() * types.length)] as string;
      const bodyLength = Math.floor(random() * 64);
      const body = Buffer.from(Array.from({ length: bodyLength }, () => Math.floor(random() * 256)));
      const msg = frontend(type, body);
      if (random() < 0.3) msg.writeInt32BE(Math.floor(random() * 2 ** 31) - 2 ** 30, 1);
      return msg;
    });
    for (let i = 0; i < cases.length; i += 20) {
      await Promise.all(
        cases.slice(i, i + 20).map(async (msg) => {
          const c = await readyClient(t.port);
          c.write(msg);
          c.write(frontend('S'));
          setTimeout(() => c.end(), 50);
          const msgs = await c.untilClosed();
          for (const e of msgs.filter((m) => m.type === 'E'))
            assert.match(errorFields(e.body).C ?? '', /^[0-9A-Z]{5}$/);
        }),
      );
    }
    await stillServing();
  });
});
