/**
 * Keeping a system table's Iceberg schema in step with its definitions: rows recorded under
 * several versions of a definition are flushed together, so their columns are merged, and
 * the table gains the columns it lacks. Columns are never dropped: a column a newer
 * definition left out stays, optional, and reads NULL for new rows.
 */
import type { SchemaChange, Table } from '../table/index.js';
import { isLegalPromotion, isPrimitive } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';
import { SYSTEM_NAMESPACE, type SystemColumnDef, type SystemTable } from './definition.js';

/**
 * The columns of several definitions of one table, oldest first: later definitions win on
 * type and doc; a column is required only when every definition requires it.
 */
export function mergeColumns(defs: readonly SystemTable[]): SystemColumnDef[] {
  const out = new Map<string, SystemColumnDef>();
  defs.forEach((d) => {
    for (const c of d.columns) {
      const prev = out.get(c.name);
      out.set(c.name, { ...c, required: c.required && (prev ? prev.required : true) });
    }
  });
  for (const [name, c] of out)
    if (c.required && !defs.every((d) => d.columns.some((x) => x.name === name)))
      out.set(name, { ...c, required: false });
  return [...out.values()];
}

/**
 * The schema changes that let `table` take rows of `columns`.
 * @throws InvalidInputError when a column's type changed in a way Iceberg cannot promote.
 */
export function schemaChangesFor(table: Table, columns: readonly SystemColumnDef[]): SchemaChange[] {
  const schema = table.schema();
  const changes: SchemaChange[] = [];
  for (const c of columns) {
    const f = schema.fields.find((x) => x.name === c.name);
    if (!f) {
      changes.push({ op: 'add-column', name: c.name, type: c.type, ...(c.doc ? { doc: c.doc } : {}) });
      continue;
    }
    if (!isPrimitive(f.type) || f.type !== c.type) {
      if (isPrimitive(f.type) && isLegalPromotion(f.type, c.type))
        changes.push({ op: 'update-type', name: c.name, type: c.type });
      else if (isPrimitive(f.type) && isLegalPromotion(c.type, f.type)) {
        // A definition narrower than the table (an older one still running): values widen on write.
      } else
        throw new InvalidInputError(
          `system table ${SYSTEM_NAMESPACE}.${table.id.name}: column "${c.name}" is ${JSON.stringify(f.type)} in the table but ${c.type} in its definition`,
          'keep column types (only int→long, float→double and wider decimals can change); add a new column instead',
        );
    }
    if (f.required && !c.required) changes.push({ op: 'make-optional', name: c.name });
  }
  for (const f of schema.fields)
    if (f.required && !columns.some((c) => c.name === f.name))
      changes.push({ op: 'make-optional', name: f.name });
  return changes;
}
