import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/util/index.js';

/** test/fixtures/config, from the compiled test's location (dist/test/config). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/config/', import.meta.url));

/** A fresh temp dir, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A temp project whose sluice.yaml is `text`. */
export async function projectWith(text: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const tmp = await tempDir();
  await writeFile(join(tmp.dir, 'sluice.yaml'), text);
  return tmp;
}

/** The ConfigError thrown by `fn` (sync or async). */
export async function configError(fn: () => unknown): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}
