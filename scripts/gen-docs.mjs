#!/usr/bin/env node
// Regenerates reference docs from the code that defines them (run after `npm run build`):
// docs/configuration.md from the sluice.yaml schema. A test fails when they drift.
import { writeFileSync } from 'node:fs';

const { configDocs } = await import('../dist/src/config/index.js');
const target = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(target, configDocs());
console.log(`wrote ${target.pathname}`);
