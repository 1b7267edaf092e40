/**
 * The audit trail: who did what, where, and whether it was allowed. Rows go to the system
 * table `sluice_system.audit` (append-only: users can read it with SQL, nobody can change
 * it through Sluice). HTTP requests are audited when they change something or are refused;
 * every PostgreSQL-wire session is audited when it authenticates, and HTTP callers with
 * credentials once a minute per surface (not per request).
 */
import { createHash } from 'node:crypto';
import type { MetaStore, SqlRunner } from '../metastore/index.js';
// Not the system index: the catalog's commit path imports this module (no import cycle).
import { defineSystemTable } from '../system/definition.js';
import { recordSystemRows } from '../system/outbox.js';
import { redactText } from '../util/index.js';
import type { Principal } from './policy.js';

/** Surfaces audit rows come from. */
export type AuditSurface = 'http' | 'pgwire' | 'cli' | 'iceberg' | 'bus' | 'scheduler' | 'pipeline';

export interface AuditRow {
  at: Date;
  actor: string;
  via: string;
  surface: string;
  /** authenticate, grant, revoke, query, commit, trigger, create_user, ... */
  action: string;
  resource: string | null;
  /** ok, denied, failed */
  outcome: string;
  remote: string | null;
  /** Details as JSON text: statement hash, tables read, rows returned, reason... */
  detail: string | null;
}

export const AUDIT_TABLE = defineSystemTable<AuditRow>({
  name: 'audit',
  columns: [
    { name: 'at', type: 'timestamptz', required: true, doc: 'when it happened' },
    { name: 'actor', type: 'string', required: true, doc: 'user, token owner or JWT subject' },
    {
      name: 'via',
      type: 'string',
      required: true,
      doc: 'password, token, jwt, local, pipeline, scheduler, anonymous',
    },
    {
      name: 'surface',
      type: 'string',
      required: true,
      doc: 'http, pgwire, cli, iceberg, bus, scheduler, pipeline',
    },
    { name: 'action', type: 'string', required: true },
    { name: 'resource', type: 'string', doc: 'kind:name of what was acted on' },
    { name: 'outcome', type: 'string', required: true, doc: 'ok, denied or failed' },
    { name: 'remote', type: 'string', doc: 'client address' },
    { name: 'detail', type: 'string', doc: 'JSON details (never secrets, never query text: its hash)' },
  ],
  partitionBy: [{ column: 'at', transform: 'day' }],
});

/** What one audited action is. */
export interface AuditEvent {
  principal: Pick<Principal, 'name' | 'via'> | { name: string; via: string };
  surface: AuditSurface;
  action: string;
  resource?: string;
  outcome: 'ok' | 'denied' | 'failed';
  remote?: string;
  detail?: Record<string, unknown>;
}

/** SHA-256 of a statement's text: audits say which query ran without storing its literals. */
export function statementHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 32);
}

/** Record audit rows (in `db`'s transaction when it is one). */
export async function recordAudit(db: MetaStore | SqlRunner, events: readonly AuditEvent[]): Promise<void> {
  const rows: AuditRow[] = events.map((e) => ({
    at: new Date(),
    actor: e.principal.name,
    via: e.principal.via,
    surface: e.surface,
    action: e.action,
    resource: e.resource ?? null,
    outcome: e.outcome,
    remote: e.remote ?? null,
    detail: e.detail ? redactText(JSON.stringify(e.detail)) : null,
  }));
  await recordSystemRows(db, AUDIT_TABLE, rows);
}

/** How often a caller's successful authentication on one surface is audited. */
export const LOGIN_AUDIT_INTERVAL_MS = 60_000;

/**
 * An auditor of successful authentications: one `authenticate` row per caller, way and
 * surface at most every `intervalMs` (a token used for 1000 requests in a minute is one row).
 * Loopback trust (`via: local`) is not a login and is not recorded. Rows are written in the
 * background; a failure is passed to `onError`.
 */
export function loginAuditor(
  db: MetaStore,
  o: { intervalMs?: number; onError?: (err: unknown) => void } = {},
): (principal: Principal, surface: AuditSurface, remote?: string) => void {
  const intervalMs = o.intervalMs ?? LOGIN_AUDIT_INTERVAL_MS;
  const last = new Map<string, number>();
  return (principal, surface, remote) => {
    if (principal.via === 'local') return;
    const key = `${surface}\u0000${principal.via}\u0000${principal.name}`;
    const now = Date.now();
    if (now - (last.get(key) ?? Number.NEGATIVE_INFINITY) < intervalMs) return;
    last.set(key, now);
    if (last.size > 10_000) for (const [k, at] of last) if (now - at >= intervalMs) last.delete(k);
    recordAudit(db, [{ principal, surface, action: 'authenticate', outcome: 'ok', remote }]).catch(
      (err: unknown) => o.onError?.(err),
    );
  };
}
