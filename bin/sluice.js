#!/usr/bin/env node
// Entry point: load the compiled CLI. `npm install` builds dist/ through the `prepare` script.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'sluice: the compiled code is missing (dist/). Run `npm install` or `npm run build`.\n',
  );
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
