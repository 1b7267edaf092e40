/** Reading project files as text: no YAML parser, so a cached configuration loads without one. */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { ConfigError } from '../util/index.js';

/** Project files larger than this are refused: they are config, not data. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;

/** A path for messages: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Read a project file as text, refusing oversized ones. @throws ConfigError */
export async function readConfigText(path: string, file = displayPath(path)): Promise<string> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(file, undefined, undefined, 'not a regular file');
    size = info.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      file,
      undefined,
      undefined,
      `cannot read file: ${(err as Error).message}`,
      undefined,
      {
        cause: err,
      },
    );
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new ConfigError(
      file,
      undefined,
      undefined,
      `file is ${(size / 1024 / 1024).toFixed(1)} MiB, larger than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB limit for project files`,
      'project files describe data, they do not hold it: move the data to storage',
    );
  }
  return readFile(path, 'utf8');
}
