import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { loadProject, parseConfig, scaffoldProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { startServer } from '../../src/serve/index.js';
import { createSelfSigned, loadTls } from '../../src/serve/tls.js';
import { tempDir } from '../helpers/cli.js';
import { startProjectWire } from '../helpers/serve.js';

const tmp = tempDir();
after(() => tmp.remove());

test('a self-signed certificate serves HTTPS that a client trusting it verifies', async () => {
  const files = await createSelfSigned(join(tmp.dir, 'tls'));
  const material = await loadTls(files);
  const server = createServer(material, (_req, res) => res.end('hello over tls'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', ca: material.cert, servername: 'localhost' },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'hello over tls');
    // Without trusting it, verification fails.
    await assert.rejects(
      new Promise((resolve, reject) =>
        request({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject).end(),
      ),
      /self[- ]signed/i,
    );
  } finally {
    server.close();
  }
});

test('missing or non-PEM files are configuration errors naming the file', async () => {
  await assert.rejects(
    loadTls({ cert: join(tmp.dir, 'nope.crt'), key: join(tmp.dir, 'nope.key') }),
    /nope\.crt.*server\.tls\.cert: cannot read/,
  );
  const bogus = join(tmp.dir, 'bogus.pem');
  writeFileSync(bogus, 'not a certificate');
  await assert.rejects(
    loadTls({ cert: bogus, key: bogus }),
    /bogus\.pem: server\.tls\.cert: not a PEM certificate/,
  );
});

test('server.tls.selfSigned: sluice serves HTTPS (and TLS on the wire port) that trusting clients verify', async () => {
  const dir = join(tmp.dir, 'proj');
  await scaffoldProject(dir, { name: 'tls' });
  const yaml = join(dir, 'sluice.yaml');
  writeFileSync(
    yaml,
    readFileSync(yaml, 'utf8').replace('\nserver:\n', '\nserver:\n  tls: { selfSigned: true }\n'),
  );
  const runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  const server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
  const wire = await startProjectWire(runtime, server.engine, dir, { tls: server.tls });
  try {
    assert.match(server.url, /^https:\/\//);
    const ca = readFileSync(join(runtime.project.dataDir, 'tls', 'server.crt'));
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL('/api/v1/health', server.url);
      request(
        { host: url.hostname, port: url.port, path: url.pathname, ca, servername: 'localhost' },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(status, 200);
    assert.match(body, /"live":true/);
    await assert.rejects(
      fetch(`${server.url}/api/v1/health`),
      'an untrusting client refuses the certificate',
    );
    const client = new pg.Client({
      host: '127.0.0.1',
      port: wire.port,
      user: 'sluice',
      database: 'sluice',
      ssl: { ca, servername: 'localhost' },
    });
    await client.connect();
    try {
      assert.equal((await client.query('SELECT 1 AS x')).rows[0].x, 1);
    } finally {
      await client.end();
    }
  } finally {
    await wire.close();
    await server.close();
    await runtime.close();
  }
});

test('server.tls needs cert and key, or selfSigned', () => {
  assert.throws(
    () => parseConfig('server:\n  tls: {}\n', { file: 'sluice.yaml', dir: '/p', env: {} }),
    /sluice\.yaml:2:.*cert and key, or selfSigned/s,
  );
});
