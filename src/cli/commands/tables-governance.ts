/**
 * `sluice tables set-pii` and `sluice tables approve`: the table properties the SQL policy
 * reads (PII columns and their masking, dataset state and owner), committed like any change.
 */

import { piiColumnsOf, TABLE_PROPERTIES } from '../../auth/index.js';
import { formatIdentifier } from '../../catalog/index.js';
import type { MaskMethod } from '../../engine/index.js';
import { currentSchema, type TableUpdate } from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';
import { emit, loadNamed, type TablesContext } from './tables-common.js';

async function commit(t: TablesContext, name: string, set: Record<string, string>, remove: string[]) {
  const loaded = await loadNamed(t.catalog, name);
  const updates: TableUpdate[] = [];
  if (Object.keys(set).length) updates.push({ action: 'set-properties', updates: set });
  const removals = remove.filter((k) => k in loaded.metadata.properties);
  if (removals.length) updates.push({ action: 'remove-properties', removals });
  if (updates.length) await t.catalog.commitTable(loaded.identifier, [], updates);
  return loaded;
}

/** Tag columns as PII (masked for readers without the pii privilege); no columns clears the tag. */
export async function setPii(
  t: TablesContext,
  name: string,
  columns: string[],
  opts: { method?: string },
): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const known = currentSchema(loaded.metadata).fields.map((f) => f.name.toLowerCase());
  const missing = columns
    .map((c) => c.split(':')[0] as string)
    .filter((c) => !known.includes(c.toLowerCase()));
  if (missing.length)
    throw new InvalidInputError(
      `${formatIdentifier(loaded.identifier)} has no column ${missing.map((c) => `"${c}"`).join(', ')}`,
      `columns: ${known.join(', ')}`,
    );
  const set: Record<string, string> = {};
  if (columns.length) set[TABLE_PROPERTIES.piiColumns] = columns.join(',');
  if (opts.method) set[TABLE_PROPERTIES.piiMethod] = opts.method;
  // Validates the methods before anything is committed.
  const tagged: Record<string, MaskMethod> = piiColumnsOf({ ...loaded.metadata.properties, ...set });
  await commit(t, name, set, columns.length ? [] : [TABLE_PROPERTIES.piiColumns, TABLE_PROPERTIES.piiMethod]);
  const table = formatIdentifier(loaded.identifier);
  const result = columns.length ? tagged : {};
  emit(t.out, { table, pii: result });
  t.out.line(
    columns.length
      ? `${table}: PII columns ${Object.entries(result)
          .map(([c, m]) => `${c} (${m})`)
          .join(', ')}`
      : `${table}: no PII columns`,
  );
}

/** Mark a table approved (readable by everyone granted read when auth.approvedOnly is on), or a draft again. */
export async function approve(
  t: TablesContext,
  name: string,
  opts: { draft?: boolean; owner?: string },
): Promise<void> {
  const state = opts.draft ? 'draft' : 'approved';
  const set: Record<string, string> = { [TABLE_PROPERTIES.state]: state };
  if (opts.owner) set[TABLE_PROPERTIES.owner] = opts.owner;
  const loaded = await commit(t, name, set, []);
  const table = formatIdentifier(loaded.identifier);
  emit(t.out, {
    table,
    state,
    owner: opts.owner ?? loaded.metadata.properties[TABLE_PROPERTIES.owner] ?? null,
  });
  t.out.line(`${table}: ${state}${opts.owner ? `, owned by ${opts.owner}` : ''}`);
}
