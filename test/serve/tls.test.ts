import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSelfSigned, loadTls } from '../../src/serve/tls.js';
import { tempDir } from '../helpers/cli.js';

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
