import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { parseConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { startPgWire } from '../../src/serve/pgwire/index.js';
import { openDuckEngine } from './duck-engine.js';

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfig(text, { file: 'sluice.yaml', dir: '/p/demo', env });

describe('pgwire configuration', () => {
  test('defaults: SCRAM, loopback trust, no users, 64 MiB messages', () => {
    const { pgwire, server } = parse('name: demo\n');
    assert.equal(server.pg, 5433);
    assert.deepEqual(pgwire, {
      auth: 'scram-sha-256',
      trustLoopback: true,
      users: [],
      maxConnections: 100,
      maxMessageBytes: 64 * 1024 ** 2,
    });
  });

  test('users with passwords from the environment and read-only flags', () => {
    const { pgwire } = parse(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax of sluice.yaml
      'pgwire:\n  maxMessageBytes: 1MiB\n  users:\n    - { name: analyst, password: "${PW}", readOnly: true }\n    - { name: loader, password: plain }\n',
      { PW: 'from-env' },
    );
    assert.deepEqual(pgwire.users, [
      { name: 'analyst', password: 'from-env', readOnly: true },
      { name: 'loader', password: 'plain', readOnly: false },
    ]);
    assert.equal(pgwire.maxMessageBytes, 1024 ** 2);
  });

  test('bad entries are reported with file and line', () => {
    assert.throws(
      () => parse('pgwire:\n  users:\n    - { name: a, password: x }\n    - { name: a, password: y }\n'),
      /sluice\.yaml:4:.*duplicate user "a"/s,
    );
    assert.throws(() => parse('pgwire:\n  auth: md5\n'), /sluice\.yaml:2:.*auth/s);
    assert.throws(
      () => parse('pgwire:\n  users:\n    - { name: "bad name", password: x }\n'),
      /sluice\.yaml:3:.*user name/s,
    );
    assert.throws(() => parse('pgwire:\n  users:\n    - { name: u }\n'), /sluice\.yaml:3:.*password/s);
  });

  test('startPgWire serves the configured users and refuses unreadable TLS files', async () => {
    const { pgwire } = parse(
      'pgwire:\n  trustLoopback: false\n  users:\n    - { name: analyst, password: pw, readOnly: true }\n',
    );
    const engine = await openDuckEngine();
    try {
      const server = await startPgWire(engine, {
        config: pgwire,
        dir: '/p/demo',
        host: '127.0.0.1',
        port: 0,
        log: silentLogger,
      });
      try {
        const client = new pg.Client({
          connectionString: `postgres://analyst:pw@127.0.0.1:${server.port}/x`,
        });
        await client.connect();
        const err = (await client.query('DROP TABLE shop.orders').catch((e: unknown) => e)) as {
          code?: string;
        };
        assert.equal(err.code, '42501');
        await client.end();
        const trusted = new pg.Client({ connectionString: `postgres://sluice:x@127.0.0.1:${server.port}/x` });
        await assert.rejects(trusted.connect(), (e: { code?: string }) => e.code === '28P01');
      } finally {
        await server.close();
      }
      await assert.rejects(
        startPgWire(engine, {
          config: { ...pgwire, tls: { cert: 'missing.pem', key: 'missing.key' } },
          dir: '/p/demo',
          host: '127.0.0.1',
          port: 0,
          log: silentLogger,
        }),
        /pgwire\.tls: cannot read \/p\/demo\/missing\.pem/,
      );
    } finally {
      await engine.close();
    }
  });
});
