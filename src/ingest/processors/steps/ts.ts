/**
 * `ts`: a user function over batches of records. Batches are read by rowid range, results
 * are appended as JSON text through a DuckDB appender, and one SQL pass turns the JSON
 * into typed columns (`json_transform_strict`, so a value of the wrong type fails the step).
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage, InvalidInputError } from '../../../util/index.js';
import type { ProcessorOptions } from '../schema.js';
import { createOutput, ident, isLineage, type StepResult, type StepRun } from '../step.js';

/** A `ts:` function: records in, records out (lineage columns included in both). */
export type BatchFunction = (
  batch: Record<string, unknown>[],
) => Record<string, unknown>[] | Promise<Record<string, unknown>[]>;

const loaded = new Map<string, Promise<Record<string, unknown>>>();

/** Import a .js/.mjs module, or transpile a .ts one (with `typescript`) into a hidden sibling .mjs file. */
async function importModule(file: string, version: number): Promise<Record<string, unknown>> {
  const ext = extname(file);
  if (ext === '.js' || ext === '.mjs')
    return import(`${pathToFileURL(file).href}?v=${version}`).catch((err: unknown) => {
      throw new InvalidInputError(`cannot load the module ${file}: ${errorMessage(err)}`, undefined, {
        cause: err,
      });
    });
  if (ext !== '.ts' && ext !== '.mts')
    throw new InvalidInputError(`module ${file}: expected a .ts, .mts, .js or .mjs file`);
  const source = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new InvalidInputError(`cannot read the module ${file}`, undefined, { cause: err });
  });
  const ts = await import('typescript').catch((err: unknown) => {
    throw new InvalidInputError(
      `loading ${file} needs the typescript package`,
      'run `npm install typescript` in the project, or point `module` at a compiled .js file',
      { cause: err },
    );
  });
  const out = ts.default.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.default.ModuleKind.ESNext, target: ts.default.ScriptTarget.ES2022 },
  });
  const hash = createHash('sha256').update(out.outputText).digest('hex').slice(0, 12);
  // A sibling file, so the module's relative imports of .js files and packages resolve as written.
  const target = join(dirname(file), `.${basename(file, ext)}.${hash}.sluice.mjs`);
  await writeFile(target, out.outputText);
  try {
    return await import(pathToFileURL(target).href);
  } catch (err) {
    throw new InvalidInputError(`cannot load the module ${file}: ${errorMessage(err)}`, undefined, {
      cause: err,
    });
  } finally {
    await rm(target, { force: true });
  }
}

async function loadFunction(run: StepRun, o: ProcessorOptions<'ts'>): Promise<BatchFunction> {
  const file = isAbsolute(o.module) ? o.module : resolve(run.ctx.projectDir, o.module);
  // Keyed by modification time, so an edited module is loaded again by the next run.
  const version = await stat(file).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const key = `${file}@${version}`;
  let mod = loaded.get(key);
  if (!mod) {
    mod = importModule(file, version);
    loaded.set(key, mod);
    mod.catch(() => loaded.delete(key));
  }
  const fn = (await mod)[o.export];
  if (typeof fn !== 'function')
    throw new InvalidInputError(`${run.label}: ${o.module} has no exported function "${o.export}"`);
  return fn as BatchFunction;
}

/** DuckDB type of a JS value the function returned. */
function typeOf(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'number') return 'DOUBLE';
  if (typeof v === 'bigint') return 'BIGINT';
  if (typeof v === 'string') return 'VARCHAR';
  if (v instanceof Date) return 'TIMESTAMP';
  return 'JSON';
}

const toJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/** Run the function over every batch; see the file comment. */
export async function tsStep(run: StepRun, o: ProcessorOptions<'ts'>): Promise<StepResult> {
  const fn = await loadFunction(run, o);
  if (run.dry) {
    await createOutput(run, `SELECT * FROM ${run.input}`);
    return { schemaFromData: true };
  }
  const types = new Map(run.columns.map((c) => [c.name, c.type]));
  for (const [n, t] of Object.entries(o.columns ?? {})) types.set(n, t);
  const seen = new Map<string, string | undefined>();
  const results = run.scratch('results');
  await run.conn.run(`CREATE TEMP TABLE ${results} (j VARCHAR)`);
  const appender = await run.conn.raw.createAppender(
    results.slice(1, -1).replace(/""/g, '"'),
    'main',
    'temp',
  );
  try {
    // rowid ranges, up to the largest rowid: a table with deleted rows has gaps.
    const [count] = await run.conn.all<{ n: bigint | null }>(`SELECT max(rowid) + 1 AS n FROM ${run.input}`);
    const total = Number(count?.n ?? 0);
    for (let from = 0; from < total; from += o.batch_size) {
      run.ctx.signal?.throwIfAborted();
      const batch = await run.conn.all<Record<string, unknown>>(
        `SELECT * FROM ${run.input} WHERE rowid >= ${from} AND rowid < ${from + o.batch_size} ORDER BY rowid`,
      );
      let out: unknown;
      try {
        out = await fn(batch.map((r) => ({ ...r })));
      } catch (err) {
        throw new InvalidInputError(`${run.label}: ${o.module} failed: ${errorMessage(err)}`, undefined, {
          cause: err,
        });
      }
      if (!Array.isArray(out))
        throw new InvalidInputError(`${run.label}: ${o.module} must return an array of records`);
      const sameShape = out.length === batch.length;
      for (const [i, rec] of (out as Record<string, unknown>[]).entries()) {
        if (!rec || typeof rec !== 'object')
          throw new InvalidInputError(`${run.label}: ${o.module} returned a non-object`);
        const row = { ...rec };
        // Records returned without lineage inherit it from the input record at the same position.
        if (row.__raw_object === undefined && sameShape) {
          row.__raw_object = batch[i]?.__raw_object;
          row.__raw_row = batch[i]?.__raw_row;
        }
        for (const [k, v] of Object.entries(row)) if (!seen.get(k)) seen.set(k, typeOf(v));
        appender.appendVarchar(JSON.stringify(row, toJson));
        appender.endRow();
      }
      appender.flushSync();
    }
  } finally {
    appender.closeSync();
  }
  const names = seen.size > 0 ? [...seen.keys()] : run.columns.map((c) => c.name);
  for (const l of ['__raw_object', '__raw_row']) if (!names.includes(l)) names.push(l);
  const structure: Record<string, string> = {};
  for (const n of names) structure[n] = types.get(n) ?? seen.get(n) ?? (isLineage(n) ? 'VARCHAR' : 'VARCHAR');
  structure.__raw_row = 'BIGINT';
  structure.__raw_object = 'VARCHAR';
  const struct = `json_transform_strict(j, '${JSON.stringify(structure).replace(/'/g, "''")}')`;
  await createOutput(
    run,
    `SELECT ${names.map((n) => `struct_extract(s, '${n.replace(/'/g, "''")}') AS ${ident(n)}`).join(', ')}
     FROM (SELECT ${struct} AS s FROM ${results})`,
  );
  return undefined;
}
