import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { runCli, sluiceBin } from '../helpers/cli.js';
import { type TestProject, testProject } from './helpers.js';

/**
 * A real HTTP server in front of `target` that records the format of each SQL request; as
 * `old`, it answers `"format": "parquet"` the way servers before Parquet downloads did.
 */
async function sqlProxy(target: string, o: { old: boolean }) {
  const formats: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const format = (JSON.parse(body.toString()) as { format?: string }).format ?? 'json';
      formats.push(format);
      if (o.old && format === 'parquet') {
        const message = 'format: Invalid option: expected one of "json"|"ndjson"';
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'invalid_input', message, sqlState: '22023' } }));
        return;
      }
      const up = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    formats,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('sluice sql', () => {
  let p: TestProject;
  const sql = (args: string[], o: { input?: string } = {}) => {
    if (o.input === undefined) return runCli(['--project', p.dir, 'sql', ...args]);
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [sluiceBin, '--project', p.dir, 'sql', ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(o.input);
    });
  };

  before(async () => {
    p = await testProject();
  });
  after(async () => {
    await p?.remove();
  });

  test('creates, reads and prints tables in every format', async () => {
    const created = await sql([
      "CREATE TABLE app.users AS SELECT range AS id, 'u' || range AS name FROM range(3)",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /CREATE_TABLE 3/);
    const table = await sql(['SELECT * FROM app.users ORDER BY id']);
    assert.match(table.stdout, /id │ name/);
    assert.match(table.stdout, /\(3 rows\)/);
    const csv = await sql(['--format', 'csv', 'SELECT * FROM app.users ORDER BY id']);
    assert.equal(csv.stdout, 'id,name\n0,u0\n1,u1\n2,u2\n');
    const json = await sql(['--format', 'json', 'SELECT id FROM app.users ORDER BY id']);
    assert.deepEqual(JSON.parse(json.stdout), [{ id: 0 }, { id: 1 }, { id: 2 }]);
    const nd = await sql(['--format', 'ndjson', 'SELECT id FROM app.users WHERE id = 1']);
    assert.equal(nd.stdout, '{"id":1}\n');
  });

  test('reads statements from stdin and -f, writes --output files and Parquet', async () => {
    const piped = await sql(['--format', 'csv'], {
      input: "INSERT INTO app.users VALUES (9, 'nine');\nSELECT count(*) AS n FROM app.users;",
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'n\n4\n');
    const file = join(p.dir, 'q.sql');
    writeFileSync(file, 'SELECT name FROM app.users WHERE id = 9');
    const out = join(p.dir, 'out.csv');
    const fromFile = await sql(['-f', file, '--format', 'csv', '--output', out]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal((await import('node:fs')).readFileSync(out, 'utf8'), 'name\nnine\n');
    const parquet = join(p.dir, 'users.parquet');
    const pq = await sql(['--format', 'parquet', '--output', parquet, 'SELECT * FROM app.users']);
    assert.equal(pq.code, 0, pq.stderr);
    assert.ok(existsSync(parquet));
    const back = await sql(['--format', 'csv', `SELECT count(*) AS n FROM '${parquet}'`]);
    assert.equal(back.stdout, 'n\n4\n');
  });

  test('bad SQL, read-only writes and bad flags fail with clear messages', async () => {
    const bad = await sql(['SELECT * FROM app.nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /app\.nope|nope/);
    const ro = await sql(['--read-only', 'DELETE FROM app.users']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /read-only/);
    const fmt = await sql(['--format', 'xml', 'SELECT 1']);
    assert.notEqual(fmt.code, 0);
    assert.match(fmt.stderr, /--format must be one of/);
    const pq = await sql(['--format', 'parquet', 'SELECT 1']);
    assert.match(pq.stderr, /needs --output/);
  });

  test('Ctrl-C cancels a running statement', async () => {
    const fresh = await testProject();
    try {
      const child = spawn(process.execPath, [
        sluiceBin,
        '--project',
        fresh.dir,
        'sql',
        'SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b',
      ]);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', () => undefined);
      // The engine's spill directory appears once the command runs (its Ctrl-C handler is set by then).
      const spill = join(fresh.dir, '.sluice', 'tmp');
      for (let i = 0; i < 600 && !existsSync(spill); i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /cancelled/);
    } finally {
      await fresh.remove();
    }
  });

  describe('--server', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer(p.runtime, { host: '127.0.0.1', httpPort: 0 });
    });
    after(async () => {
      await server?.close();
    });

    test('runs statements through the HTTP API', async () => {
      const r = await sql([
        '--server',
        server.url,
        '--format',
        'csv',
        'SELECT id FROM app.users WHERE id < 2 ORDER BY id',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'id\n0\n1\n');
      const err = await sql(['--server', server.url, 'SELECT nope FROM app.users']);
      assert.equal(err.code, 1);
      assert.match(err.stderr, /nope.*line 1, column 8/s);
      const ro = await sql(['--server', server.url, '--read-only', 'DROP TABLE app.users']);
      assert.match(ro.stderr, /read-only/);
      const unreachable = await sql(['--server', 'http://127.0.0.1:1', 'SELECT 1']);
      assert.match(unreachable.stderr, /cannot reach/);
    });

    for (const old of [false, true]) {
      test(`--format parquet ${old ? 'falls back to rows converted here on a server without Parquet' : 'saves the Parquet file the server writes'}`, async () => {
        const proxy = await sqlProxy(server.url, { old });
        try {
          const dir = join(p.dir, old ? 'pq-old' : 'pq-new');
          (await import('node:fs')).mkdirSync(dir, { recursive: true });
          const file = join(dir, 'out.parquet');
          const q = 'SELECT id, name, id * 1.5 AS x FROM app.users WHERE id < 3 ORDER BY id';
          const r = await sql(['--server', proxy.url, '--format', 'parquet', '--output', file, q]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /wrote 3 rows/);
          assert.deepEqual(proxy.formats, old ? ['parquet', 'ndjson'] : ['parquet']);
          const back = await sql(['--format', 'csv', `SELECT id, name, x FROM '${file}' ORDER BY id`]);
          assert.equal(back.stdout, 'id,name,x\n0,u0,0\n1,u1,1.5\n2,u2,3\n');

          const bad = join(dir, 'bad.parquet');
          const err = await sql([
            '--server',
            proxy.url,
            '--format',
            'parquet',
            '--output',
            bad,
            'SELECT nope FROM app.users',
          ]);
          assert.equal(err.code, 1);
          assert.match(err.stderr, /nope.*line 1, column 8/s);
          const ro = await sql([
            '--server',
            proxy.url,
            '--read-only',
            '--format',
            'parquet',
            '--output',
            bad,
            'DROP TABLE app.users',
          ]);
          assert.equal(ro.code, 1);
          // A server writing Parquet refuses anything but a query up front; an old one runs it read-only.
          assert.match(
            ro.stderr,
            old ? /read-only/ : /only a query .* can be downloaded as Parquet, not DROP/,
          );
          assert.deepEqual(readdirSync(dir), ['out.parquet'], 'a failed statement leaves no file behind');
        } finally {
          await proxy.close();
        }
      });
    }
  });
});
