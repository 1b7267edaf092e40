/**
 * Event triggers: turning a table commit, an event batch or a landed file into a run of each
 * pipeline whose `on:` matches. A pipeline at its max_active_runs does not queue one run per
 * event: it keeps one pending trigger (the latest event, with the number folded into it) and
 * runs it once a run finishes. Landed files are found by listing the `on: { files }`
 * prefixes; the objects seen are remembered in the metastore so a restart fires nothing twice.
 */
import { createHash } from 'node:crypto';
import type { MetaStore, SqlRunner, TriggerEvent } from '../metastore/index.js';
import type { ObjectStore } from '../storage/index.js';
import { type AdvanceResult, createRun, type EngineContext, lockScope, notifyAdvance } from './engine.js';
import type { LoadedPipeline } from './load.js';

/** An event waiting for room, with the number of events coalesced into it. */
export interface PendingTrigger extends TriggerEvent {
  count: number;
}

/** A run created by a trigger (notify after commit). */
export interface TriggeredRun {
  runId: string;
  advance: AdvanceResult;
}

const PENDING_SCOPE = 'orchestrator.trigger';
const FILES_SCOPE = 'orchestrator.files';
/** New objects fired per prefix and tick; the rest wait for the next tick. */
const MAX_FILES_PER_TICK = 500;
/** Objects younger than this are left for the next tick (a local file may still be written). */
const SETTLE_MS = 1000;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Handle one event for one pipeline in `tx`: start a run (folding in the pending trigger),
 * or, at max_active_runs, make it the pipeline's pending trigger. A repeated event id
 * changes nothing. Returns the run created, if any.
 */
export async function triggerRun(
  engine: EngineContext,
  tx: SqlRunner,
  p: LoadedPipeline,
  event: PendingTrigger,
): Promise<TriggeredRun | undefined> {
  const runKey = `event:${event.kind}:${event.id}`.slice(0, 255);
  await lockScope(tx, 'trigger', p.name);
  const [row] = await tx.query<{ value: string | null }>(
    'SELECT value FROM sluice_state WHERE scope = ? AND key = ?',
    [PENDING_SCOPE, p.name],
  );
  const pending = row?.value ? (JSON.parse(row.value) as PendingTrigger) : undefined;
  const setPending = (value: PendingTrigger | null) =>
    tx.execute('UPDATE sluice_state SET value = ? WHERE scope = ? AND key = ?', [
      value ? JSON.stringify(value) : null,
      PENDING_SCOPE,
      p.name,
    ]);
  const [ran] = await tx.query('SELECT 1 AS ran FROM sluice_runs WHERE pipeline = ? AND run_key = ?', [
    p.name,
    runKey,
  ]);
  if (ran) {
    if (pending?.id === event.id) await setPending(null);
    return undefined;
  }
  const folded = pending && pending.id !== event.id ? pending.count + event.count : event.count;
  const [active] = await tx.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM sluice_runs WHERE pipeline = ? AND state IN ('queued', 'running')",
    [p.name],
  );
  if (Number(active?.n ?? 0) >= p.def.max_active_runs) {
    await setPending({ kind: event.kind, name: event.name, id: event.id, count: folded });
    return undefined;
  }
  if (pending) await setPending(null);
  const now = new Date(engine.now());
  return createRun(engine, tx, {
    pipeline: p,
    trigger: 'event',
    runKey,
    interval: { start: now, end: now },
    params: {
      trigger_kind: event.kind,
      trigger_name: event.name,
      trigger_id: event.id,
      trigger_count: String(folded),
    },
  });
}

/** The pending trigger of each pipeline that has one. */
export async function pendingTriggers(meta: MetaStore): Promise<Map<string, PendingTrigger>> {
  const rows = await meta.query<{ key: string; value: string }>(
    'SELECT key, value FROM sluice_state WHERE scope = ? AND value IS NOT NULL',
    [PENDING_SCOPE],
  );
  return new Map(rows.map((r) => [r.key, JSON.parse(r.value) as PendingTrigger]));
}

/**
 * List every `on: { files }` prefix and fire once per object not seen before (or changed:
 * another etag). Each object is claimed in the transaction that fires it, so of several
 * schedulers one fires it. Returns the runs created.
 */
export async function pollFiles(
  engine: EngineContext,
  store: ObjectStore,
  pipelines: ReadonlyMap<string, LoadedPipeline>,
  fire: (event: TriggerEvent, tx: SqlRunner) => Promise<TriggeredRun[]>,
): Promise<string[]> {
  const prefixes = new Set<string>();
  for (const p of pipelines.values()) if (p.def.on?.files && !p.def.paused) prefixes.add(p.def.on.files);
  const created: string[] = [];
  for (const prefix of prefixes) created.push(...(await pollPrefix(engine, store, prefix, fire)));
  return created;
}

async function pollPrefix(
  engine: EngineContext,
  store: ObjectStore,
  prefix: string,
  fire: (event: TriggerEvent, tx: SqlRunner) => Promise<TriggeredRun[]>,
): Promise<string[]> {
  const { meta } = engine;
  const scope = `${FILES_SCOPE}:${sha(prefix).slice(0, 32)}`;
  const seen = new Map(
    (
      await meta.query<{ key: string; value: string }>(
        'SELECT key, value FROM sluice_state WHERE scope = ?',
        [scope],
      )
    ).map((r) => [r.key, r.value]),
  );
  const listed = new Set<string>();
  const created: string[] = [];
  let fired = 0;
  const settled = Date.now() - SETTLE_MS;
  for await (const o of store.list(prefix)) {
    const hash = sha(o.key);
    listed.add(hash);
    const version = o.etag ?? `${o.size}:${o.lastModified.getTime()}`;
    const before = seen.get(hash);
    if (before === version) continue;
    if (o.lastModified.getTime() > settled || fired >= MAX_FILES_PER_TICK) continue;
    fired += 1;
    const made = await meta.transaction(async (tx) => {
      const claim =
        before === undefined
          ? await tx.execute(
              'INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, 0) ON CONFLICT (scope, key) DO NOTHING',
              [scope, hash, version],
            )
          : await tx.execute(
              'UPDATE sluice_state SET value = ?, version = version + 1 WHERE scope = ? AND key = ? AND value = ?',
              [version, scope, hash, before],
            );
      if (claim.rowCount === 0) return [];
      return fire({ kind: 'files', name: o.key, id: sha(`${o.key}\n${version}`).slice(0, 40) }, tx);
    });
    for (const m of made) {
      created.push(m.runId);
      await notifyAdvance(engine, m.runId, m.advance);
    }
  }
  // Forget objects that are gone, so the state stays as large as the prefix.
  const gone = [...seen.keys()].filter((h) => !listed.has(h));
  for (let i = 0; i < gone.length; i += 200) {
    const chunk = gone.slice(i, i + 200);
    await meta.execute(
      `DELETE FROM sluice_state WHERE scope = ? AND key IN (${chunk.map(() => '?').join(', ')})`,
      [scope, ...chunk],
    );
  }
  return created;
}
