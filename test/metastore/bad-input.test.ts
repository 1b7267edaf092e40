import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openMetaStore } from '../../src/metastore/index.js';
import { BackendError, InvalidInputError } from '../../src/util/index.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

test('an unreachable PostgreSQL fails fast with host:port and a masked password', async () => {
  const server = createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  const started = Date.now();
  await assert.rejects(
    openMetaStore(`postgres://sluice:hunter2secret@127.0.0.1:${port}/lake`),
    (err: Error) => {
      assert.ok(err instanceof BackendError, String(err));
      assert.match(
        err.message,
        new RegExp(`cannot reach PostgreSQL at postgres://sluice:\\*\\*\\*@127\\.0\\.0\\.1:${port}/lake`),
      );
      assert.match(err.message, /hint: /);
      assert.ok(!err.message.includes('hunter2secret'));
      assert.ok(!String(err.stack).includes('hunter2secret'));
      return true;
    },
  );
  assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms`);
});

test('a server that never answers times out after connectTimeoutMs', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((s) => sockets.add(s));
  const port = await listen(server);
  const started = Date.now();
  try {
    await assert.rejects(
      openMetaStore(`postgresql://app:topsecret@127.0.0.1:${port}/db`, { connectTimeoutMs: 300 }),
      (err: Error) => {
        assert.ok(err instanceof BackendError, String(err));
        assert.match(
          err.message,
          new RegExp(
            `cannot reach PostgreSQL at postgresql://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/db: .*timeout`,
            'i',
          ),
        );
        assert.ok(!err.message.includes('topsecret'));
        return true;
      },
    );
    assert.ok(Date.now() - started < 3000);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test('an unknown scheme names the accepted ones without leaking the password', async () => {
  await assert.rejects(openMetaStore('mysql://root:pw-123@db:3306/meta'), (err: Error) => {
    assert.ok(err instanceof InvalidInputError);
    assert.match(err.message, /unsupported metastore URL scheme "mysql:"/);
    assert.match(err.message, /sqlite:, postgres:, postgresql:/);
    assert.ok(!err.message.includes('pw-123'));
    return true;
  });
  await assert.rejects(openMetaStore('meta.db'), /has no scheme/);
});

test('a SQLite path that cannot be created is a BackendError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-bad-'));
  try {
    writeFileSync(join(dir, 'file'), 'not a directory');
    await assert.rejects(openMetaStore(`sqlite://${join(dir, 'file', 'sub', 'meta.db')}`), (err: Error) => {
      assert.ok(err instanceof BackendError);
      assert.match(err.message, /cannot open SQLite database/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
