import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version in package.json (read once; dist/src/util → package root). */
export function packageVersion(): string {
  if (!cached) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    cached = pkg.version;
  }
  return cached;
}
