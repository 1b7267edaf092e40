/** Table routes of the Iceberg REST catalog. */
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { joinLocation } from '../../storage/index.js';
import {
  type LoadedTable,
  newTableMetadata,
  type TableIdentifier,
  type TableMetadata,
  tableMetadataJson,
} from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';
import { AlreadyExistsError, NoSuchNamespaceError, NoSuchTableError } from '../errors.js';
import { formatIdentifier, validateIdentifier } from '../names.js';
import { UnsupportedOperationError } from './errors.js';
import { decodeNamespace, noContent, paginate, readBody, sendJson } from './http.js';
import {
  commitTableRequest,
  commitTransactionRequest,
  createTableRequest,
  parseCommit,
  parseCreateParts,
  registerTableRequest,
  renameTableRequest,
  reportMetricsRequest,
} from './schemas.js';
import type { RestDeps } from './types.js';

/** Metadata as a LoadTableResult carries it; `refs` keeps only snapshots that refs point to. */
function metadataView(md: TableMetadata, snapshots: string): Record<string, unknown> {
  if (snapshots !== 'refs') return tableMetadataJson(md);
  const referenced = new Set(Object.values(md.refs).map((r) => r['snapshot-id']));
  return tableMetadataJson({
    ...md,
    snapshots: md.snapshots.filter((s) => referenced.has(s['snapshot-id'])),
  });
}

function etagOf(metadataLocation: string, snapshots: string): string {
  return `"${createHash('sha256').update(`${metadataLocation}\n${snapshots}`).digest('hex').slice(0, 32)}"`;
}

function snapshotsMode(c: Context): string {
  const mode = c.req.query('snapshots') ?? 'all';
  if (mode !== 'all' && mode !== 'refs')
    throw new InvalidInputError(`snapshots=${mode}: expected "all" or "refs"`);
  return mode;
}

/** Register the table routes under `base` (`/v1` or `/v1/<prefix>`). */
export function tableRoutes(app: Hono, base: string, deps: RestDeps): void {
  const { catalog, authorize, tableConfig } = deps;
  const tablePath = `${base}/namespaces/:namespace/tables/:table`;

  const idOf = (c: Context): TableIdentifier =>
    validateIdentifier({
      namespace: decodeNamespace(c.req.param('namespace')),
      name: c.req.param('table') ?? '',
    });

  const loadResult = (c: Context, t: LoadedTable, mode = 'all') =>
    sendJson(
      c,
      {
        'metadata-location': t.metadataLocation,
        metadata: metadataView(t.metadata, mode),
        config: tableConfig,
      },
      200,
      { etag: etagOf(t.metadataLocation, mode) },
    );

  app.get(`${base}/namespaces/:namespace/tables`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    await authorize(c.req.raw, 'table:list', { namespace });
    const page = paginate(c, await catalog.listTables(namespace), (t) => t.name);
    return sendJson(c, { identifiers: page.items, 'next-page-token': page.next });
  });

  app.post(`${base}/namespaces/:namespace/tables`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    const body = await readBody(c, createTableRequest, 'CreateTableRequest');
    const id = validateIdentifier({ namespace, name: body.name });
    await authorize(c.req.raw, 'table:create', { namespace, table: id.name });
    const parts = parseCreateParts(body);
    const request = { ...parts, properties: body.properties, location: body.location };
    if (!body['stage-create']) return loadResult(c, await catalog.createTable(id, request));
    // A staged create only returns fresh metadata; the client commits it with assert-create.
    if (!(await catalog.namespaceExists(namespace)))
      throw new NoSuchNamespaceError(`namespace "${namespace.join('.')}" does not exist`);
    if (await catalog.tableExists(id))
      throw new AlreadyExistsError(`table "${formatIdentifier(id)}" already exists`);
    const location =
      body.location ??
      catalog.defaultTableLocation?.(id) ??
      joinLocation(catalog.warehouse, ...namespace, id.name);
    const metadata = newTableMetadata({
      location,
      schema: parts.schema,
      spec: parts.partitionSpec,
      sortOrder: parts.sortOrder,
      properties: body.properties,
    });
    return sendJson(c, {
      'metadata-location': null,
      metadata: tableMetadataJson(metadata),
      config: tableConfig,
    });
  });

  app.post(`${base}/namespaces/:namespace/register`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    const body = await readBody(c, registerTableRequest, 'RegisterTableRequest');
    const id = validateIdentifier({ namespace, name: body.name });
    await authorize(c.req.raw, 'table:register', { namespace, table: id.name });
    if (body.overwrite && (await catalog.tableExists(id))) {
      throw new UnsupportedOperationError(
        `registering over the existing table "${formatIdentifier(id)}" is not supported`,
        'drop the table without purging it first, then register the metadata file',
      );
    }
    return loadResult(c, await catalog.registerTable(id, body['metadata-location']));
  });

  app.get(tablePath, async (c) => {
    const id = idOf(c);
    await authorize(c.req.raw, 'table:read', { namespace: id.namespace, table: id.name });
    if (c.req.method === 'HEAD') {
      if (await catalog.tableExists(id)) return noContent();
      throw new NoSuchTableError(`table "${formatIdentifier(id)}" does not exist`);
    }
    const mode = snapshotsMode(c);
    const loaded = await catalog.loadTable(id);
    const etag = etagOf(loaded.metadataLocation, mode);
    if (c.req.header('if-none-match') === etag) return noContent(304, { etag });
    return loadResult(c, loaded, mode);
  });

  app.post(tablePath, async (c) => {
    const id = idOf(c);
    const body = await readBody(c, commitTableRequest, 'CommitTableRequest');
    if (body.identifier && formatIdentifier(validateIdentifier(body.identifier)) !== formatIdentifier(id)) {
      throw new InvalidInputError(
        `the body's identifier "${formatIdentifier(body.identifier)}" differs from the path's table "${formatIdentifier(id)}"`,
      );
    }
    const { requirements, updates } = parseCommit(body);
    await authorize(c.req.raw, 'table:commit', { namespace: id.namespace, table: id.name });
    const t = await catalog.commitTable(id, requirements, updates);
    return sendJson(
      c,
      { 'metadata-location': t.metadataLocation, metadata: tableMetadataJson(t.metadata) },
      200,
      { etag: etagOf(t.metadataLocation, 'all') },
    );
  });

  app.delete(tablePath, async (c) => {
    const id = idOf(c);
    const purge = c.req.query('purgeRequested') ?? 'false';
    if (!/^(true|false)$/i.test(purge))
      throw new InvalidInputError(`purgeRequested=${purge}: expected true or false`);
    await authorize(c.req.raw, 'table:drop', { namespace: id.namespace, table: id.name });
    await catalog.dropTable(id, { purge: purge.toLowerCase() === 'true' });
    return noContent();
  });

  app.post(`${tablePath}/metrics`, async (c) => {
    const id = idOf(c);
    const body = await readBody(c, reportMetricsRequest, 'ReportMetricsRequest');
    await authorize(c.req.raw, 'table:metrics', { namespace: id.namespace, table: id.name });
    if (!(await catalog.tableExists(id)))
      throw new NoSuchTableError(`table "${formatIdentifier(id)}" does not exist`);
    deps.log?.debug(
      { table: formatIdentifier(id), reportType: body['report-type'] },
      'metrics report received',
    );
    return noContent();
  });

  app.post(`${base}/tables/rename`, async (c) => {
    const body = await readBody(c, renameTableRequest, 'RenameTableRequest');
    const from = validateIdentifier(body.source);
    const to = validateIdentifier(body.destination);
    await authorize(c.req.raw, 'table:rename', { namespace: from.namespace, table: from.name });
    await authorize(c.req.raw, 'table:create', { namespace: to.namespace, table: to.name });
    await catalog.renameTable(from, to);
    return noContent();
  });

  app.post(`${base}/transactions/commit`, async (c) => {
    const body = await readBody(c, commitTransactionRequest, 'CommitTransactionRequest');
    const changes = body['table-changes'].map((change) => ({
      identifier: validateIdentifier(change.identifier),
      ...parseCommit(change),
    }));
    for (const ch of changes) {
      await authorize(c.req.raw, 'table:commit', {
        namespace: ch.identifier.namespace,
        table: ch.identifier.name,
      });
    }
    if (!catalog.commitTransaction) {
      throw new UnsupportedOperationError(
        'this catalog cannot commit several tables atomically',
        'commit each table on its own',
      );
    }
    await catalog.commitTransaction(changes);
    return noContent();
  });
}
