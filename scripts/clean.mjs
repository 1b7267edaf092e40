#!/usr/bin/env node
// Remove build outputs so deleted sources leave no stale compiled files behind.
import { rmSync } from 'node:fs';

for (const dir of process.argv.slice(2))
  rmSync(new URL(`../${dir}`, import.meta.url), { recursive: true, force: true });
