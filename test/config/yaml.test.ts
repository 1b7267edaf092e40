// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about the ${VAR} syntax
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { loadYamlFile, MAX_CONFIG_BYTES, parseConfig, parseYamlText } from '../../src/config/index.js';
import { configError, FIXTURES, tempDir } from './helpers.js';

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfig(text, { file: 'sluice.yaml', dir: '/p/demo', env });
}

describe('YAML with positions', () => {
  test('a syntax error gives the line, the column and the parser reason', async () => {
    const text = await readFile(join(FIXTURES, 'malformed.yaml'), 'utf8');
    const err = await configError(() => parse(text));
    assert.equal(err.line, 4);
    assert.equal(err.column, 7);
    assert.equal(
      err.message,
      'sluice.yaml:4:7: YAML syntax error: Nested mappings are not allowed in compact mappings',
    );
  });

  test('an unclosed flow sequence is a syntax error, not a value', async () => {
    const err = await configError(() => parse('server: { http: 8080\n'));
    assert.match(err.message, /^sluice\.yaml:\d+:\d+: YAML syntax error: /);
  });

  test('a duplicate key is an error at the second occurrence', async () => {
    const err = await configError(() => parse('server:\n  http: 1\n  http: 2\n'));
    assert.equal(err.line, 3);
    assert.equal(err.column, 3);
    assert.match(err.message, /duplicate key "http"/);
  });

  test('a file that is not a mapping is an error at 1:1', async () => {
    const err = await configError(() => parse('- a\n- b\n'));
    assert.equal(err.message, 'sluice.yaml:1:1: expected a mapping, found a list');
  });

  test('oversized files are refused before parsing', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'big.yaml');
      await writeFile(path, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
      const err = await configError(() => loadYamlFile(path, z.object({})));
      assert.match(err.message, /larger than the 10 MiB limit/);
    } finally {
      await cleanup();
    }
  });

  test('loadYamlFile gives any area the same positioned errors', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'orders.yaml');
      await writeFile(path, 'name: orders\nretries:\n  max: many\n  backof: exponential\n');
      const schema = z.strictObject({
        name: z.string(),
        retries: z.strictObject({
          max: z.number().int(),
          backoff: z.enum(['fixed', 'exponential']).optional(),
        }),
        tasks: z.array(z.object({ id: z.string() })),
      });
      const err = await configError(() => loadYamlFile(path, schema, { env: {} }));
      assert.equal(err.file, path);
      const lines = err.message.split('\n').filter((l) => !l.startsWith('  hint'));
      assert.deepEqual(lines, [
        `${path}:1:1: missing required key "tasks" (expected a list)`,
        `${path}:3:8: retries.max: expected a number, found "many"`,
        `${path}:4:3: unknown key "backof" in retries — did you mean "backoff"?`,
      ]);
      await writeFile(path, 'name: ${NAME:-orders}\nretries: { max: 3 }\ntasks: [{ id: a }]\n');
      const ok = await loadYamlFile(path, schema, { env: {} });
      assert.deepEqual(ok, { name: 'orders', retries: { max: 3 }, tasks: [{ id: 'a' }] });
    } finally {
      await cleanup();
    }
  });
});

describe('environment interpolation', () => {
  test('${VAR} and ${VAR:-default} are substituted; plain scalars are retyped', () => {
    const config = parse(
      'name: ${PROJECT}\nserver:\n  http: ${HTTP_PORT:-8181}\n  pg: ${PG_PORT}\n  host: "${HOST:-localhost}"\nmetastore: { url: "sqlite://${DB_DIR}/m.db" }\n',
      { PROJECT: 'shop', PG_PORT: '6543', DB_DIR: '/data' },
    );
    assert.equal(config.name, 'shop');
    assert.equal(config.server.http, 8181);
    assert.equal(config.server.pg, 6543);
    assert.equal(config.server.host, 'localhost');
    assert.equal(config.metastore.url, 'sqlite:///data/m.db');
  });

  test('an empty variable takes the default; a quoted number stays a string', async () => {
    assert.equal(parse('name: ${N:-fallback}', { N: '' }).name, 'fallback');
    const err = await configError(() => parse('server: { http: "${PORT}" }', { PORT: '80' }));
    assert.match(err.message, /server\.http: expected a port number 0–65535, found "80"/);
  });

  test('$${ is a literal ${', () => {
    assert.equal(parse('name: "cost-$${X}-$$"').name, 'cost-${X}-$$');
  });

  test('keys are never interpolated', async () => {
    const err = await configError(() => parse('${KEY}: 1\n', { KEY: 'name' }));
    assert.match(err.message, /unknown key "\$\{KEY\}"/);
  });

  test('a missing variable names the variable and the line of the value', async () => {
    const err = await configError(() =>
      parse('name: x\nmetastore:\n  url: postgres://u:${DB_PASSWORD}@h/db\n'),
    );
    assert.equal(err.line, 3);
    assert.equal(err.column, 21);
    assert.match(err.message, /^sluice\.yaml:3:21: environment variable DB_PASSWORD is not set/);
    assert.match(err.message, /hint: set DB_PASSWORD, or give a default with \$\{DB_PASSWORD:-default\}/);
  });

  test('missing variables are reported with the other problems', async () => {
    const err = await configError(() => parse('storage:\n  region: ${REGION}\nserver:\n  http: nope\n'));
    const lines = err.message.split('\n').filter((l) => !l.startsWith('  hint'));
    assert.deepEqual(lines, [
      'sluice.yaml:2:11: environment variable REGION is not set',
      'sluice.yaml:4:9: server.http: expected a port number 0–65535, found "nope"',
    ]);
  });

  test('an invalid reference is an error', async () => {
    const err = await configError(() => parse('name: "${1X}"\n'));
    assert.match(err.message, /invalid variable reference "\$\{1X\}"/);
    const open = await configError(() => parse('name: "${X"\n'));
    assert.match(open.message, /unterminated variable reference/);
  });

  test('secret values are never echoed in errors', async () => {
    const env = { DB_PASSWORD: 'hunter2-secret', TOKEN_VALUE: 'tok-123456', AWS_SECRET: 's3cr3t' };
    const err = await configError(() =>
      parse(
        'storage:\n  secretAccessKey: 12345\n  sessionToken: [a]\n  region: ${AWS_SECRET}x\n  url: ftp://${AWS_SECRET}\nserver:\n  host: 1\n  http: ${DB_PASSWORD}\nmetastore:\n  url: "mysql://u:${DB_PASSWORD}@h"\n',
        env,
      ),
    );
    for (const secret of Object.values(env))
      assert.ok(!err.message.includes(secret), `leaked ${secret}: ${err.message}`);
    assert.ok(!err.message.includes('12345'));
    assert.match(err.message, /storage\.secretAccessKey: expected a string, found "\*\*\*"/);
    assert.match(err.message, /server\.http: expected a port number 0–65535, found "\*\*\*"/);
    assert.match(err.message, /storage\.url: invalid value \(not shown: it holds a secret\)/);
  });
});

describe('parseYamlText', () => {
  test('returns the validated value', () => {
    const value = parseYamlText('a: ${A:-1}\n', 'x.yaml', z.object({ a: z.number() }), { env: {} });
    assert.deepEqual(value, { a: 1 });
  });
});
