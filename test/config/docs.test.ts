import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configDocs } from '../../src/config/index.js';

test('docs/configuration.md is generated from the current schema (run `npm run docs`)', () => {
  const committed = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(committed, configDocs());
});
