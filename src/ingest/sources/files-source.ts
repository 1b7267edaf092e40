/**
 * The files source: files under a local directory or an object-store prefix matching a glob,
 * in name order. Files the ledger already holds (by name, or by checksum after copying) are
 * skipped, so a file dropped twice is loaded once. Files are streamed into the raw zone,
 * never read into memory.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { projectPath } from '../../config/index.js';
import { InvalidInputError, NotFoundError } from '../../util/index.js';
import type { FilesSourceSpec } from '../spec.js';
import type { PayloadFormat } from '../spec-common.js';
import type { FetchedPayload, Source, SourceContext } from './types.js';

const EXTENSIONS: Record<string, PayloadFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  txt: 'csv',
  json: 'json',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
  xml: 'xml',
  xlsx: 'xlsx',
  parquet: 'parquet',
};

/** Format and compression of a file name: `orders.csv.gz` → csv, gzip. */
export function formatOf(name: string): { format?: PayloadFormat; compression?: 'gzip' | 'zstd' } {
  const m = /\.([a-z0-9]+)(\.(gz|gzip|zst|zstd))?$/i.exec(name);
  if (!m) return {};
  const c = m[3]?.toLowerCase();
  return {
    format: EXTENSIONS[(m[1] as string).toLowerCase()],
    compression: c === 'gz' || c === 'gzip' ? 'gzip' : c === 'zst' || c === 'zstd' ? 'zstd' : undefined,
  };
}

async function* walk(dir: string, signal: AbortSignal): AsyncIterable<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    signal.throwIfAborted();
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path, signal);
    else if (e.isFile()) yield path;
  }
}

/** The files source of a spec. */
export function filesSource(spec: FilesSourceSpec): Source {
  return { fetch: (ctx) => fetchFiles(spec, ctx) };
}

async function* candidates(
  spec: FilesSourceSpec,
  ctx: SourceContext,
): AsyncIterable<{ name: string; uri: string; local: () => Promise<string> }> {
  if (spec.path !== undefined) {
    const root = projectPath(ctx.projectDir, spec.path);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory())
      throw new NotFoundError(`files source: directory ${root} does not exist`, 'create it or fix `path`');
    for await (const path of walk(root, ctx.signal)) {
      const name = relative(root, path).split(sep).join('/');
      yield { name, uri: path, local: async () => path };
    }
    return;
  }
  const prefix = spec.prefix ?? '';
  for await (const obj of ctx.store.list(prefix, { signal: ctx.signal })) {
    if (obj.key.startsWith('raw/')) continue;
    const name = obj.key.slice(prefix.length).replace(/^\/+/, '');
    yield {
      name,
      uri: `${ctx.store.url}/${obj.key}`,
      local: () => ctx.store.localPath(obj.key, { signal: ctx.signal }),
    };
  }
}

async function* fetchFiles(spec: FilesSourceSpec, ctx: SourceContext): AsyncIterable<FetchedPayload> {
  const match = picomatch(spec.glob, { dot: false });
  const epoch = randomUUID().slice(0, 13);
  let seq = 0;
  for await (const file of candidates(spec, ctx)) {
    if (!match(file.name)) continue;
    const detected = formatOf(file.name);
    const format = spec.format === 'auto' ? detected.format : spec.format;
    if (!format) {
      ctx.log.warn({ file: file.name }, 'file skipped: unknown format');
      continue;
    }
    const compression =
      spec.compression === 'auto'
        ? detected.compression
        : spec.compression === 'none'
          ? undefined
          : spec.compression;
    if ((format === 'xlsx' || format === 'parquet') && compression)
      throw new InvalidInputError(
        `files source: ${file.name}: ${format} files cannot be ${compression}-compressed`,
      );
    if (spec.dedupe === 'name' && (await ctx.ledger.seen(ctx.task, 'name', file.name))) continue;
    yield {
      stream: '',
      epoch,
      seq: seq++,
      body: { file: await file.local() },
      format,
      compression,
      sourceUri: file.uri,
      name: file.name,
      fetchedAt: new Date(),
      dedupeByChecksum: spec.dedupe === 'checksum',
    };
  }
}
