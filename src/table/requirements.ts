/** TableRequirement checks of REST commits: optimistic concurrency as data. */
import { ConflictError, InvalidInputError } from '../util/index.js';
import type { TableMetadata } from './types.js';
import type { TableRequirement } from './updates.js';

function conflict(req: TableRequirement, expected: string, found: string): ConflictError {
  return new ConflictError(
    `requirement ${req.type} failed: expected ${expected}, found ${found}`,
    'reload the table metadata and retry the commit',
  );
}

/**
 * Check commit requirements against the current metadata (undefined when the table does
 * not exist yet).
 * @throws ConflictError naming the failed requirement with `expected X, found Y`.
 */
export function checkRequirements(
  metadata: TableMetadata | undefined,
  requirements: readonly TableRequirement[],
): void {
  for (const req of requirements) {
    if (req.type === 'assert-create') {
      if (metadata) throw conflict(req, 'no table', `table ${metadata['table-uuid']}`);
      continue;
    }
    if (!metadata) throw conflict(req, 'an existing table', 'no table');
    const md = metadata;
    const check = (what: string, expected: unknown, found: unknown) => {
      if (expected !== found) throw conflict(req, `${what} ${expected}`, `${found}`);
    };
    switch (req.type) {
      case 'assert-table-uuid':
        check('table uuid', req.uuid.toLowerCase(), md['table-uuid'].toLowerCase());
        break;
      case 'assert-ref-snapshot-id': {
        const ref = md.refs[req.ref];
        if (req['snapshot-id'] === null) {
          if (ref)
            throw conflict(
              req,
              `ref "${req.ref}" to not exist`,
              `${ref.type} at snapshot ${ref['snapshot-id']}`,
            );
        } else if (!ref) {
          throw conflict(req, `ref "${req.ref}" at snapshot ${req['snapshot-id']}`, 'no such ref');
        } else if (ref['snapshot-id'] !== req['snapshot-id']) {
          throw conflict(
            req,
            `ref "${req.ref}" at snapshot ${req['snapshot-id']}`,
            `snapshot ${ref['snapshot-id']}`,
          );
        }
        break;
      }
      case 'assert-last-assigned-field-id':
        check('last assigned field id', req['last-assigned-field-id'], md['last-column-id']);
        break;
      case 'assert-current-schema-id':
        check('current schema id', req['current-schema-id'], md['current-schema-id']);
        break;
      case 'assert-last-assigned-partition-id':
        check('last assigned partition id', req['last-assigned-partition-id'], md['last-partition-id']);
        break;
      case 'assert-default-spec-id':
        check('default spec id', req['default-spec-id'], md['default-spec-id']);
        break;
      case 'assert-default-sort-order-id':
        check('default sort order id', req['default-sort-order-id'], md['default-sort-order-id']);
        break;
      default:
        throw new InvalidInputError(`unknown table requirement "${(req as { type: string }).type}"`);
    }
  }
}
