/** `POST /api/v1/tables/{namespace}/{table}/rollback`: make an earlier snapshot current again. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AuthStore } from '../../auth/index.js';
import { type JdbcCatalog, rollbackTable } from '../../catalog/index.js';
import { InvalidInputError, NotFoundError } from '../../util/index.js';
import { requireAccess } from '../auth.js';
import { parseJsonBody } from './body.js';

const rollbackBody = z.strictObject({
  /** A string: 64-bit ids do not survive JSON numbers in most clients. */
  snapshotId: z.union([z.string().regex(/^-?\d+$/, 'must be an integer'), z.number().int()]),
  force: z.boolean().optional(),
});

/** Routes mounted under /api/v1. Rolling back needs `write` on the table. */
export function tableRoutes(catalog: JdbcCatalog, auth: AuthStore): Hono {
  const app = new Hono();
  app.post('/tables/:namespace/:table/rollback', async (c) => {
    const namespace = c.req.param('namespace').split('.');
    const id = { namespace, name: c.req.param('table') };
    const name = [...namespace, id.name].join('.');
    await requireAccess(c, auth, { kind: 'table', name, privilege: 'write' });
    const b = await parseJsonBody(c.req.raw, rollbackBody);
    if (typeof b.snapshotId === 'number' && !Number.isSafeInteger(b.snapshotId))
      throw new InvalidInputError('snapshotId lost digits as a JSON number; send it as a string');
    if (!(await catalog.tableExists(id))) throw new NotFoundError(`table "${name}" does not exist`);
    const r = await rollbackTable(catalog, id, BigInt(b.snapshotId), { force: b.force });
    return c.json({
      table: r.table,
      from: r.from?.toString() ?? null,
      to: r.to.toString(),
      changed: r.changed,
    });
  });
  return app;
}
