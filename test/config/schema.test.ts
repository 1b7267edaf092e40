// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests use the ${VAR} syntax
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { configDocs, parseConfig, parseSize, type SluiceConfig } from '../../src/config/index.js';
import { configError, FIXTURES } from './helpers.js';

const DIR = '/srv/projects/shop';

function parse(text: string, env: Record<string, string> = {}, environment?: string): SluiceConfig {
  return parseConfig(text, { file: 'sluice.yaml', dir: DIR, env, environment });
}

describe('sluice.yaml schema', () => {
  test('an empty file gives every default, with absolute paths', () => {
    const config = parse('');
    assert.deepEqual(config, {
      name: 'shop',
      auth: {
        required: false,
        rateLimit: { perSecond: 100, burst: 200 },
        approvedOnly: false,
        productionNamespaces: [],
      },
      storage: {
        url: pathToFileURL(`${DIR}/.sluice/warehouse`).href,
        cache: { dir: `${DIR}/.sluice/cache`, maxBytes: 10 * 1024 ** 3 },
      },
      metastore: { url: `sqlite://${DIR}/.sluice/meta.db`, poolMax: 10, busyTimeoutMs: 5000 },
      bus: {
        log: 'embedded',
        defaultPartitions: 1,
        maxPartitions: 64,
        maxBatchBytes: 52428800,
        maxEventBytes: 1048576,
        auth: { anonymous: 'loopback', tokens: [], admins: [] },
        sinks: [],
      },
      server: { http: 8080, pg: 5433, host: '127.0.0.1' },
      log: { level: 'info', file: `${DIR}/.sluice/logs/sluice.log` },
      orchestrator: { pools: {}, concurrency: 4, leaseMs: 30_000, pollMs: 1000, schedulerIntervalMs: 5000 },
      engine: { statementTimeoutMs: 300_000, maxConcurrentQueries: 8, queueSize: 64 },
      pgwire: {
        auth: 'scram-sha-256',
        trustLoopback: true,
        users: [],
        maxConnections: 100,
        maxMessageBytes: 64 * 1024 ** 2,
      },
      environments: {},
    });
  });

  test('comments only, or keys without values, also give the defaults', () => {
    const config = parse('# nothing yet\nname:\nstorage:\nserver:\n  http:\n');
    assert.equal(config.name, 'shop');
    assert.equal(config.server.http, 8080);
    assert.equal(config.storage.url, pathToFileURL(`${DIR}/.sluice/warehouse`).href);
  });

  test('absolute paths and s3/postgres URLs are kept as written', () => {
    const config = parse(
      'storage: { url: "file:///data/lake", cache: { dir: /var/cache/s } }\nmetastore: { url: "postgresql://u@h/db" }\nlog: { file: /var/log/s.log }\n',
    );
    assert.equal(config.storage.url, 'file:///data/lake');
    assert.equal(config.storage.cache.dir, '/var/cache/s');
    assert.equal(config.metastore.url, 'postgresql://u@h/db');
    assert.equal(config.log.file, '/var/log/s.log');
    assert.equal(parse('storage: { url: "s3://my-bucket/a/b" }').storage.url, 's3://my-bucket/a/b');
  });

  test('sizes accept numbers and unit strings', () => {
    assert.equal(parseSize('10GiB'), 10 * 1024 ** 3);
    assert.equal(parseSize('512 MB'), 512e6);
    assert.equal(parseSize('1.5K'), 1536);
    assert.equal(parseSize('42'), 42);
    assert.equal(parseSize('12XB'), undefined);
    assert.equal(parse('storage: { cache: { maxBytes: 1000 } }').storage.cache.maxBytes, 1000);
  });

  test('an environment is deep-merged over the base and validated', () => {
    const text =
      'storage: { url: "s3://base-bucket", region: eu-west-1 }\nserver: { http: 9000 }\n' +
      'environments:\n  prod:\n    storage: { url: "s3://prod-lake/x" }\n' +
      '    metastore: { url: "postgres://sluice:${PGPASSWORD}@db:5432/sluice", poolMax: 40 }\n' +
      '    server: { host: 0.0.0.0 }\n';
    const prod = parse(text, { PGPASSWORD: 'pw' }, 'prod');
    assert.equal(prod.storage.url, 's3://prod-lake/x');
    assert.equal(prod.storage.region, 'eu-west-1', 'base keys the environment does not name are kept');
    assert.equal(prod.metastore.url, 'postgres://sluice:pw@db:5432/sluice');
    assert.equal(prod.metastore.poolMax, 40);
    assert.equal(prod.metastore.busyTimeoutMs, 5000);
    assert.deepEqual(prod.server, { http: 9000, pg: 5433, host: '0.0.0.0' });
    const base = parse(text, { PGPASSWORD: 'pw' });
    assert.equal(base.storage.url, 's3://base-bucket');
    assert.equal(base.server.host, '127.0.0.1');
    assert.equal(parse(text, { PGPASSWORD: 'pw', SLUICE_ENV: 'prod' }).storage.url, 's3://prod-lake/x');
  });

  test('an error inside an environment points at the environment', async () => {
    const err = await configError(() =>
      parse(
        'server: { http: 8080 }\nenvironments:\n  prod:\n    server:\n      http: 99999\n    storage: { ulr: x }\n',
      ),
    );
    assert.match(
      err.message,
      /^sluice\.yaml:5:13: environments\.prod\.server\.http: expected a port number 0–65535, found 99999/,
    );
    assert.match(
      err.message,
      /sluice\.yaml:6:16: unknown key "ulr" in environments\.prod\.storage — did you mean "url"\?/,
    );
  });

  test('an unknown environment is named, with the closest defined one', async () => {
    const err = await configError(() => parse('environments:\n  prod: {}\n  staging: {}\n', {}, 'prd'));
    assert.match(err.message, /unknown environment "prd" — did you mean "prod"\? \(defined: prod, staging\)/);
    const none = await configError(() => parse('', {}, 'prod'));
    assert.match(none.message, /no environments are defined/);
  });

  test('unknown keys suggest the closest valid key at their level', async () => {
    const top = await configError(() => parse('metastor:\n  url: sqlite://./m.db\n'));
    assert.equal(top.line, 1);
    assert.equal(top.column, 1);
    assert.match(top.message, /^sluice\.yaml:1:1: unknown key "metastor" — did you mean "metastore"\?/);
    const nested = await configError(() => parse('storage:\n  ulr: s3://bucket\n'));
    assert.match(nested.message, /^sluice\.yaml:2:3: unknown key "ulr" in storage — did you mean "url"\?/);
    const swapped = await configError(() => parse('naem: x\n'));
    assert.match(swapped.message, /unknown key "naem" — did you mean "name"\?/);
    const far = await configError(() => parse('server:\n  colour: blue\n'));
    assert.match(far.message, /unknown key "colour" in server\n {2}hint: valid keys here: http, pg, host/);
  });

  test('wrong types name the key path, what was expected and what was found', async () => {
    const port = await configError(() => parse('server:\n  http: abc\n'));
    assert.equal(port.message, 'sluice.yaml:2:9: server.http: expected a port number 0–65535, found "abc"');
    assert.equal(port.line, 2);
    const pool = await configError(() => parse('metastore:\n  poolMax: 0\n'));
    assert.equal(pool.message, 'sluice.yaml:2:12: metastore.poolMax: expected an integer 1–200, found 0');
    const level = await configError(() => parse('log: { level: verbos }\n'));
    assert.match(level.message, /log\.level: expected one of "trace", .*found "verbos"/);
    const section = await configError(() => parse('storage: nope\n'));
    assert.match(section.message, /^sluice\.yaml:1:10: storage: expected a mapping, found "nope"/);
    const version = await configError(() => parse('version: 2\n'));
    assert.match(version.message, /version: expected 1, found 2/);
  });

  test('every problem of a file is reported together, in file order', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(join(FIXTURES, 'many-errors.yaml'), 'utf8');
    const err = await configError(() => parse(text));
    const lines = err.message.split('\n').filter((l) => !l.startsWith('  hint'));
    assert.deepEqual(lines, [
      'sluice.yaml:1:1: unknown key "metastor" — did you mean "metastore"?',
      'sluice.yaml:3:1: unknown key "stroage" — did you mean "storage"?',
      'sluice.yaml:6:3: unknown key "ulr" in storage — did you mean "url"?',
      'sluice.yaml:8:9: server.http: expected a port number 0–65535, found "abc"',
      'sluice.yaml:11:12: metastore.poolMax: expected an integer 1–200, found 0',
    ]);
    assert.equal(err.line, 1);
    assert.equal(err.code, 'config_invalid');
  });

  test('an invalid environment name points at it', async () => {
    const err = await configError(() => parse('environments:\n  "bad name": {}\n'));
    assert.match(
      err.message,
      /^sluice\.yaml:2:3: environments: invalid key "bad name": expected an environment name/,
    );
  });

  test('URL schemes are checked and the valid ones suggested', async () => {
    const storage = await configError(() => parse('storage:\n  url: ftp://host/x\n'));
    assert.match(
      storage.message,
      /^sluice\.yaml:2:8: storage\.url: unsupported scheme "ftp:" — expected file:\/\/PATH .* or s3:\/\/BUCKET\/PREFIX/,
    );
    const bucket = await configError(() => parse('storage: { url: "s3://Bad_Bucket" }'));
    assert.match(bucket.message, /invalid S3 bucket name "Bad_Bucket"/);
    const meta = await configError(() => parse('metastore: { url: "mysql://u:pw@h/db" }'));
    assert.match(
      meta.message,
      /metastore\.url: unsupported scheme "mysql:" — expected sqlite:\/\/PATH or postgres:\/\//,
    );
    assert.doesNotMatch(meta.message, /pw/);
    const bus = await configError(() => parse('bus: { log: "nats://x:4222" }'));
    assert.match(
      bus.message,
      /bus\.log: unsupported scheme "nats:" — expected "embedded" or kafka:\/\/HOST:PORT/,
    );
    const endpoint = await configError(() => parse('storage: { endpoint: "localhost:9000" }'));
    assert.match(
      endpoint.message,
      /storage\.endpoint: expected an http\(s\) URL such as http:\/\/localhost:9000, found "localhost:9000"/,
    );
  });

  test('configDocs documents every top-level key with types and defaults', () => {
    const docs = configDocs();
    for (const key of ['name', 'version', 'storage', 'metastore', 'bus', 'server', 'log', 'environments']) {
      assert.match(docs, new RegExp(`^\\| \`${key}\` \\|`, 'm'), key);
    }
    assert.match(docs, /\| `server\.http` \| integer \| `8080` \| Port of the HTTP API/);
    assert.match(docs, /\| `storage\.url` \| string \| `file:\/\/\.\/\.sluice\/warehouse` \|/);
    assert.match(docs, /`environments\.<name>\.storage`/);
  });
});
