/**
 * Validation of table metadata, manifest schemas and REST commit bodies, with the zod
 * schemas (metadata-schema.ts, updates-schema.ts) loaded on first use. Loading zod and
 * building the schemas costs ~100 ms of CPU, which every start of `sluice sql` paid even
 * for a statement that reads no table; now only a process that validates something pays.
 * The checks and their errors are exactly those of the schema modules.
 *
 * The functions are synchronous, so a schema module is loaded with require() of an ES
 * module (Node 20.19 and later). Async readers call `loadTableSchemas()` first, which
 * loads it with import() and so works on any Node 20.
 */
import { createRequire } from 'node:module';
import type { Schema, TableMetadata } from './types.js';
import type { TableRequirement, TableUpdate } from './updates.js';

type MetadataSchemas = typeof import('./metadata-schema.js');
type UpdateSchemas = typeof import('./updates-schema.js');

const requireModule = createRequire(import.meta.url);
let metadataSchemas: MetadataSchemas | undefined;
let updateSchemas: UpdateSchemas | undefined;

/** Load the metadata schemas now (before synchronous validation in an async reader). */
export async function loadTableSchemas(): Promise<void> {
  metadataSchemas ??= await import('./metadata-schema.js');
}

function metadata(): MetadataSchemas {
  metadataSchemas ??= requireModule('./metadata-schema.js') as MetadataSchemas;
  return metadataSchemas;
}

/**
 * Validate parsed metadata JSON and return it typed and normalized (see metadata-schema.ts).
 * @throws InvalidInputError listing every problem, or naming an unsupported format version.
 */
export function validateTableMetadata(obj: unknown): TableMetadata {
  return metadata().validateTableMetadata(obj);
}

/** The table schema in parsed JSON `obj` (a manifest's `schema` key), or undefined if it is not one. */
export function schemaOrUndefined(obj: unknown): Schema | undefined {
  const parsed = metadata().schemaSchema.safeParse(obj);
  return parsed.success ? (parsed.data as Schema) : undefined;
}

function updates(): UpdateSchemas {
  updateSchemas ??= requireModule('./updates-schema.js') as UpdateSchemas;
  return updateSchemas;
}

/**
 * Validate the `updates` array of a REST commit (parse the body with `parseJson` so
 * snapshot ids stay exact).
 * @throws InvalidInputError listing each problem.
 */
export function parseTableUpdates(json: unknown): TableUpdate[] {
  return updates().parseTableUpdates(json);
}

/** Validate the `requirements` array of a REST commit. @throws InvalidInputError listing each problem. */
export function parseTableRequirements(json: unknown): TableRequirement[] {
  return updates().parseTableRequirements(json);
}
