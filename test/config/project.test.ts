import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { findProjectDir, loadProject, scaffoldProject } from '../../src/config/index.js';
import { InvalidInputError } from '../../src/util/index.js';
import { configError, FIXTURES, tempDir } from './helpers.js';

const FULL = join(FIXTURES, 'full');
const ENV = { TEST_ACCESS_KEY_ID: 'AKIDEXAMPLE', TEST_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI' };

describe('loadProject', () => {
  test('a config using every key loads, resolved against the project directory', async () => {
    const project = await loadProject(FULL, { env: ENV });
    assert.equal(project.dir, FULL.replace(/\/$/, ''));
    assert.equal(project.file, join(FULL, 'sluice.yaml'));
    assert.equal(project.dataDir, join(FULL, '.sluice'));
    assert.equal(project.environment, undefined);
    const { config } = project;
    assert.equal(config.name, 'shop-data');
    assert.equal(config.version, 1);
    assert.deepEqual(config.storage, {
      url: pathToFileURL(join(FULL, 'lake')).href,
      endpoint: 'http://localhost:9000',
      region: 'eu-central-1',
      forcePathStyle: true,
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI',
      sessionToken: 'none',
      cache: { dir: join(FULL, 'cache'), maxBytes: 512 * 1024 ** 2 },
    });
    assert.deepEqual(config.metastore, {
      url: `sqlite://${join(FULL, 'meta/sluice.db')}`,
      poolMax: 20,
      busyTimeoutMs: 10000,
    });
    assert.deepEqual(config.bus, {
      log: 'kafka://broker1:9092,broker2:9092',
      defaultPartitions: 1,
      maxPartitions: 64,
      maxBatchBytes: 52428800,
      maxEventBytes: 1048576,
      auth: { anonymous: 'loopback', tokens: [], admins: [] },
      sinks: [],
    });
    assert.deepEqual(config.server, { http: 9090, pg: 15433, host: '0.0.0.0' });
    assert.deepEqual(config.log, { level: 'debug', file: join(FULL, 'logs/out.log') });
    assert.deepEqual(Object.keys(config.environments), ['prod', 'staging']);
  });

  test('project files are listed: pipelines and events as YAML, models as SQL', async () => {
    const { files } = await loadProject(FULL, { env: ENV });
    assert.deepEqual(files, {
      pipelines: [join(FULL, 'pipelines/clicks.yml'), join(FULL, 'pipelines/orders.yaml')],
      models: [join(FULL, 'models/daily.sql'), join(FULL, 'models/marts/revenue.sql')],
      events: [join(FULL, 'events/order-created.yaml')],
    });
  });

  test('the prod environment switches to s3 and postgres', async () => {
    const project = await loadProject(FULL, { env: { ...ENV, PGPASSWORD: 'pw' }, environment: 'prod' });
    const { config } = project;
    assert.equal(project.environment, 'prod');
    assert.equal(config.storage.url, 's3://shop-lake/sluice');
    assert.equal(config.storage.region, 'us-east-1');
    assert.equal(config.storage.endpoint, 'http://localhost:9000');
    assert.equal(config.metastore.url, 'postgres://sluice:pw@db.internal:5432/sluice');
    assert.equal(config.metastore.poolMax, 50);
    assert.equal(config.server.http, 80);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.log.file, join(FULL, 'logs/out.log'));
    const viaEnv = await loadProject(FULL, { env: { ...ENV, SLUICE_ENV: 'staging' } });
    assert.equal(viaEnv.config.server.host, '10.0.0.5');
  });

  test('YAML errors in pipeline and event files are reported with file:line', async () => {
    const err = await configError(() => loadProject(join(FIXTURES, 'bad-pipeline'), { env: {} }));
    assert.match(err.message, /pipelines\/broken\.yaml:\d+:\d+: YAML syntax error/);
    assert.match(
      err.message,
      /pipelines\/list\.yaml:1:1: expected a mapping at the top of the file, found a list/,
    );
  });

  test('no sluice.yaml: the error says how to create a project', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const err = await configError(() => loadProject(dir));
      assert.match(err.message, /no sluice\.yaml in .*: not a Sluice project/);
      assert.match(err.message, /hint: run "sluice init DIR" to create a project, or pass --project DIR/);
    } finally {
      await cleanup();
    }
  });

  test('findProjectDir walks up to the directory holding sluice.yaml', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'sluice.yaml'), '');
      await mkdir(join(dir, 'models', 'marts'), { recursive: true });
      assert.equal(findProjectDir(join(dir, 'models', 'marts')), dir);
      assert.equal(findProjectDir(dir), dir);
    } finally {
      await cleanup();
    }
  });
});

describe('scaffoldProject', () => {
  test('creates a project whose sluice.yaml loads and equals the defaults', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const target = join(dir, 'my-data');
      const { created } = await scaffoldProject(target);
      for (const file of [
        'sluice.yaml',
        '.gitignore',
        'README.md',
        'pipelines/README.md',
        'models/.gitkeep',
        'events/.gitkeep',
      ]) {
        assert.ok(created.includes(join(target, file)), `${file} created`);
      }
      assert.match(await readFile(join(target, '.gitignore'), 'utf8'), /^\.sluice\/$/m);
      const scaffolded = await loadProject(target, { env: {} });
      await writeFile(join(dir, 'sluice.yaml'), '');
      const defaults = await loadProject(dir, { env: {} });
      assert.equal(scaffolded.config.name, 'my-data');
      assert.deepEqual(
        { ...scaffolded.config, name: undefined, version: undefined },
        {
          ...JSON.parse(JSON.stringify(defaults.config).replaceAll(dir, target)),
          name: undefined,
          version: undefined,
        },
      );
      assert.deepEqual(scaffolded.files, { pipelines: [], models: [], events: [] });
      const text = await readFile(join(target, 'sluice.yaml'), 'utf8');
      for (const example of ['s3://', 'postgres://', 'environments:', 'kafka://'])
        assert.ok(text.includes(example), example);
    } finally {
      await cleanup();
    }
  });

  test('the commented examples are valid when uncommented', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await scaffoldProject(dir, { name: 'true' });
      const text = await readFile(join(dir, 'sluice.yaml'), 'utf8');
      const uncommented = text
        .replace(/^environments: \{\}\n/m, '')
        .replace(/^( *)# (url: s3|region|endpoint|forcePathStyle|accessKeyId|secretAccessKey)/gm, '$1$2')
        .replace(/^( *)url: file:\/\/.*\n/m, '')
        .replace(/^# (environments:| {2})/gm, '$1');
      const project = await (async () => {
        await writeFile(join(dir, 'sluice.yaml'), uncommented);
        return loadProject(dir, {
          env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', PGPASSWORD: 'c' },
          environment: 'prod',
        });
      })();
      assert.equal(project.config.name, 'true');
      assert.equal(project.config.storage.url, 's3://my-company-lake/sluice');
      assert.equal(project.config.storage.forcePathStyle, true);
      assert.equal(project.config.metastore.url, 'postgres://sluice:c@db.internal:5432/sluice');
    } finally {
      await cleanup();
    }
  });

  test('refuses to overwrite sluice.yaml unless forced, and keeps other files', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'sluice.yaml'), 'name: mine\n');
      await writeFile(join(dir, '.gitignore'), 'node_modules/');
      await assert.rejects(scaffoldProject(dir), (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, /sluice\.yaml already exists/);
        assert.match(err.message, /hint: .*--force/);
        return true;
      });
      assert.equal(await readFile(join(dir, 'sluice.yaml'), 'utf8'), 'name: mine\n');
      const { created } = await scaffoldProject(dir, { force: true, name: 'forced' });
      assert.ok(created.includes(join(dir, 'sluice.yaml')));
      assert.ok(!created.includes(join(dir, '.gitignore')));
      assert.equal(
        await readFile(join(dir, '.gitignore'), 'utf8'),
        'node_modules/\n# Data of the embedded backends (warehouse, metadata, cache, logs)\n.sluice/\n',
      );
      assert.equal((await loadProject(dir, { env: {} })).config.name, 'forced');
    } finally {
      await cleanup();
    }
  });
});
