import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONFIG_CACHE_FILE } from '../../src/config/config-cache.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { configError, tempDir } from './helpers.js';

/** A scaffolded project with its data directory and one pipeline file. */
async function project(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const tmp = await tempDir();
  await scaffoldProject(tmp.dir, { name: 'cached' });
  await mkdir(join(tmp.dir, '.sluice'));
  await mkdir(join(tmp.dir, 'pipelines'), { recursive: true });
  await writeFile(join(tmp.dir, 'pipelines', 'p.yaml'), 'name: p\n');
  return tmp;
}

/** Rewrite the cached configuration's name, keeping its key: a load that uses the cache shows it. */
async function markCache(dir: string): Promise<void> {
  const file = join(dir, '.sluice', CONFIG_CACHE_FILE);
  const cached = JSON.parse(await readFile(file, 'utf8'));
  cached.config.name = 'from-the-cache';
  await writeFile(file, JSON.stringify(cached));
}

describe('validated configuration cache', () => {
  test('a valid config is cached in .sluice, equal to a fresh validation, and reused', async () => {
    const { dir, cleanup } = await project();
    try {
      const fresh = await loadProject(dir, { env: {} });
      const file = join(dir, '.sluice', CONFIG_CACHE_FILE);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const cached = await loadProject(dir, { env: {} });
      assert.deepStrictEqual(cached, fresh);
      await markCache(dir);
      assert.equal((await loadProject(dir, { env: {} })).config.name, 'from-the-cache');
      // A corrupt cache file is a miss, not an error.
      await writeFile(file, '{"key":');
      assert.equal((await loadProject(dir, { env: {} })).config.name, 'cached');
    } finally {
      await cleanup();
    }
  });

  test('any change to sluice.yaml, a pipeline file or the environment misses the cache', async () => {
    const { dir, cleanup } = await project();
    try {
      const text = await readFile(join(dir, 'sluice.yaml'), 'utf8');
      const withDev = text.replace(
        'environments: {}',
        'environments:\n  dev:\n    server:\n      http: 9999',
      );
      assert.notEqual(withDev, text);
      await writeFile(join(dir, 'sluice.yaml'), withDev);
      await loadProject(dir, { env: {} });
      await markCache(dir);
      const dev = await loadProject(dir, { env: {}, environment: 'dev' });
      assert.equal(dev.config.name, 'cached');
      assert.equal(dev.config.server.http, 9999);
      await markCache(dir);
      await appendFile(join(dir, 'pipelines', 'p.yaml'), '# edited\n');
      assert.equal((await loadProject(dir, { env: {}, environment: 'dev' })).config.name, 'cached');
      await markCache(dir);
      await appendFile(join(dir, 'sluice.yaml'), '# edited\n');
      assert.equal((await loadProject(dir, { env: {}, environment: 'dev' })).config.name, 'cached');
    } finally {
      await cleanup();
    }
  });

  test('errors keep their file:line after a valid config was cached', async () => {
    const { dir, cleanup } = await project();
    try {
      await loadProject(dir, { env: {} });
      const text = await readFile(join(dir, 'sluice.yaml'), 'utf8');
      await writeFile(join(dir, 'sluice.yaml'), text.replace('http: 8080', 'http: eighty'));
      const err = await configError(() => loadProject(dir, { env: {} }));
      assert.match(err.message, /sluice\.yaml:\d+:\d+: .*port/);
      await writeFile(join(dir, 'sluice.yaml'), text);
      await loadProject(dir, { env: {} });
      await writeFile(join(dir, 'pipelines', 'p.yaml'), '- a list\n');
      const listErr = await configError(() => loadProject(dir, { env: {} }));
      assert.match(listErr.message, /p\.yaml:1:1: expected a mapping at the top of the file/);
    } finally {
      await cleanup();
    }
  });

  test('a config referencing a variable is not cached: it follows the variables', async () => {
    const { dir, cleanup } = await project();
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
      await writeFile(join(dir, 'sluice.yaml'), 'name: ${PROJECT_NAME}\n');
      const one = await loadProject(dir, { env: { PROJECT_NAME: 'one' } });
      const two = await loadProject(dir, { env: { PROJECT_NAME: 'two' } });
      assert.deepEqual([one.config.name, two.config.name], ['one', 'two']);
      assert.equal(existsSync(join(dir, '.sluice', CONFIG_CACHE_FILE)), false);
    } finally {
      await cleanup();
    }
  });
});
