/**
 * Monitor state in the metastore (migration 7): when each rule is next due, and ok/firing
 * per rule and dimension value. Every change is a guarded update inside one transaction,
 * which also queues the alerts of a transition and records `sluice_system.monitor_results`:
 * however many evaluators share the metastore, a due check is claimed once and a
 * transition is notified once.
 */
import { Cron } from 'croner';
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import { MAX_DELIVERY_ATTEMPTS } from '../orchestrator/index.js';
import { defineSystemTable, recordSystemRows } from '../system/index.js';
import { conditionText, type MonitorEvent } from './definition.js';
import type { MonitorState, Verdict } from './evaluate.js';
import type { LoadedMonitor } from './load.js';

/** The queue monitor alerts wait on for delivery. */
export const MONITOR_ALERT_QUEUE = 'sluice.monitor-alerts';

/** What a monitor alert says; the JSON body of a webhook alert. */
export interface MonitorAlertMessage {
  event: MonitorEvent;
  monitor: string;
  severity: string;
  table: string;
  dimension: string | null;
  /** The dimension value that fired or resolved (`(all)` without a dimension). */
  value: string;
  measured: number | null;
  expected: string;
  reason: string;
  condition: string;
  at: string;
  text: string;
}

/** A queued alert: the target is named by index, so webhook URLs are never stored. */
export interface MonitorAlertJob {
  monitor: string;
  target: number;
  message: MonitorAlertMessage;
}

/** A row of sluice_system.monitor_results: one per rule and dimension value per check. */
export interface MonitorResultRow {
  monitor: string;
  dimension_value: string;
  state: string;
  previous_state: string | null;
  measured: number | null;
  expected: string;
  reason: string;
  severity: string;
  checked_at: Date;
}

export const MONITOR_RESULTS_TABLE = defineSystemTable<MonitorResultRow>({
  name: 'monitor_results',
  columns: [
    { name: 'monitor', type: 'string', required: true },
    { name: 'dimension_value', type: 'string', required: true },
    { name: 'state', type: 'string', required: true, doc: 'ok or firing' },
    { name: 'previous_state', type: 'string', doc: 'the state before this check; null the first time' },
    { name: 'measured', type: 'double' },
    { name: 'expected', type: 'string', required: true },
    { name: 'reason', type: 'string', required: true },
    { name: 'severity', type: 'string', required: true },
    { name: 'checked_at', type: 'timestamptz', required: true },
  ],
  partitionBy: [{ column: 'checked_at', transform: 'day' }],
});

/** The stored state of one dimension value. */
export interface StoredState {
  value: string;
  state: MonitorState;
  measured: number | null;
  expected: string;
  reason: string;
  since: Date;
  checkedAt: Date;
}

/** When a rule is next due and how its last check went. */
export interface ScheduleInfo {
  dueAt: Date;
  checkedAt: Date | null;
  error: string | null;
}

/** The next time `schedule` fires after `now`. */
export function nextDue(m: LoadedMonitor, now: number): number {
  const next = new Cron(m.def.schedule, { timezone: m.def.timezone, paused: true }).nextRun(new Date(now));
  return next ? next.getTime() : now + 3_600_000;
}

/**
 * Claim the rules that are due at `now`: each claim moves the rule's due time to its next
 * tick with an update guarded by the due time read, so one evaluator wins each tick. A rule
 * seen for the first time is due at once.
 */
export async function claimDue(
  meta: MetaStore,
  monitors: Iterable<LoadedMonitor>,
  now: number,
): Promise<LoadedMonitor[]> {
  const rows = await meta.query<{ monitor: string; due_at: number | string }>(
    'SELECT monitor, due_at FROM monitor_schedule',
  );
  const due = new Map(rows.map((r) => [r.monitor, Number(r.due_at)]));
  const claimed: LoadedMonitor[] = [];
  for (const m of monitors) {
    let at = due.get(m.name);
    if (at === undefined) {
      await meta.execute(
        'INSERT INTO monitor_schedule (monitor, due_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (monitor) DO NOTHING',
        [m.name, now, now],
      );
      const [row] = await meta.query<{ due_at: number | string }>(
        'SELECT due_at FROM monitor_schedule WHERE monitor = ?',
        [m.name],
      );
      at = Number(row?.due_at ?? now);
    }
    if (at > now) continue;
    const { rowCount } = await meta.execute(
      'UPDATE monitor_schedule SET due_at = ?, updated_at = ? WHERE monitor = ? AND due_at = ?',
      [nextDue(m, now), now, m.name, at],
    );
    if (rowCount === 1) claimed.push(m);
  }
  return claimed;
}

/** A failed check (a table not built yet, a column renamed) is tried again this soon at the latest. */
export const RETRY_FAILED_CHECK_MS = 60_000;

/** Note how a check went; a failed one is due again within RETRY_FAILED_CHECK_MS. */
export async function recordCheck(meta: MetaStore, name: string, now: number, error?: string): Promise<void> {
  // A rule checked on demand before any server saw it gets its schedule row here.
  await meta.execute(
    'INSERT INTO monitor_schedule (monitor, due_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (monitor) DO NOTHING',
    [name, now, now],
  );
  if (error === undefined) {
    await meta.execute(
      'UPDATE monitor_schedule SET checked_at = ?, error = NULL, updated_at = ? WHERE monitor = ?',
      [now, now, name],
    );
    return;
  }
  await meta.execute(
    `UPDATE monitor_schedule SET checked_at = ?, error = ?, updated_at = ?,
       due_at = CASE WHEN due_at > ? THEN ? ELSE due_at END WHERE monitor = ?`,
    [now, error.slice(0, 2000), now, now + RETRY_FAILED_CHECK_MS, now + RETRY_FAILED_CHECK_MS, name],
  );
}

/** A transition one check made. */
export interface Transition {
  value: string;
  event: MonitorEvent;
  verdict: Verdict;
}

/**
 * Store a check's verdicts. A value the check no longer sees (no rows in the window) is ok.
 * Returns the transitions this call made: a value that became firing, or resolved. Alerts
 * for them are queued and results recorded in the same transaction.
 */
export async function applyVerdicts(
  meta: MetaStore,
  m: LoadedMonitor,
  verdicts: readonly Verdict[],
  now: number,
): Promise<Transition[]> {
  return meta.transaction(async (tx) => {
    const before = new Map((await readStates(tx, m.name)).map((s) => [s.value, s]));
    const all = [...verdicts];
    const seen = new Set(verdicts.map((v) => v.value));
    for (const old of before.values()) {
      if (seen.has(old.value) || old.state === 'ok') continue;
      all.push({
        value: old.value,
        state: 'ok',
        measured: null,
        expected: old.expected,
        reason: 'no rows in the window',
      });
    }
    const transitions: Transition[] = [];
    const results: MonitorResultRow[] = [];
    for (const v of all) {
      const old = before.get(v.value);
      let changed: boolean;
      if (!old) {
        const { rowCount } = await tx.execute(
          `INSERT INTO monitor_states (monitor, dimension_value, state, measured, expected, reason, since, checked_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (monitor, dimension_value) DO NOTHING`,
          [m.name, v.value, v.state, v.measured, v.expected.slice(0, 255), v.reason.slice(0, 2000), now, now],
        );
        changed = rowCount === 1 && v.state === 'firing';
        if (rowCount === 0) continue;
      } else if (old.state === v.state) {
        await tx.execute(
          'UPDATE monitor_states SET measured = ?, expected = ?, reason = ?, checked_at = ? WHERE monitor = ? AND dimension_value = ?',
          [v.measured, v.expected.slice(0, 255), v.reason.slice(0, 2000), now, m.name, v.value],
        );
        changed = false;
      } else {
        const { rowCount } = await tx.execute(
          `UPDATE monitor_states SET state = ?, measured = ?, expected = ?, reason = ?, since = ?, checked_at = ?
           WHERE monitor = ? AND dimension_value = ? AND state = ?`,
          [
            v.state,
            v.measured,
            v.expected.slice(0, 255),
            v.reason.slice(0, 2000),
            now,
            now,
            m.name,
            v.value,
            old.state,
          ],
        );
        if (rowCount === 0) continue; // another evaluator made this transition
        changed = true;
      }
      results.push({
        monitor: m.name,
        dimension_value: v.value,
        state: v.state,
        previous_state: old?.state ?? null,
        measured: v.measured,
        expected: v.expected,
        reason: v.reason,
        severity: m.def.severity,
        checked_at: new Date(now),
      });
      if (!changed) continue;
      const event: MonitorEvent = v.state === 'firing' ? 'firing' : 'resolved';
      transitions.push({ value: v.value, event, verdict: v });
      const message = alertMessage(m, event, v, now);
      for (const [i, target] of m.def.alerts.entries()) {
        if (!target.on.includes(event)) continue;
        const job: MonitorAlertJob = { monitor: m.name, target: i, message };
        await meta.enqueue(MONITOR_ALERT_QUEUE, job, { tx, maxAttempts: MAX_DELIVERY_ATTEMPTS });
      }
    }
    await recordSystemRows(tx, MONITOR_RESULTS_TABLE, results);
    return transitions;
  });
}

function alertMessage(m: LoadedMonitor, event: MonitorEvent, v: Verdict, now: number): MonitorAlertMessage {
  const d = m.def;
  const what = d.dimension ? `${d.dimension}=${v.value}` : d.table;
  const verb = event === 'firing' ? 'is firing' : 'resolved';
  return {
    event,
    monitor: d.name,
    severity: d.severity,
    table: d.table,
    dimension: d.dimension ?? null,
    value: v.value,
    measured: v.measured,
    expected: v.expected,
    reason: v.reason,
    condition: conditionText(d.condition),
    at: new Date(now).toISOString(),
    text: `Sluice [${d.severity}]: monitor ${d.name} ${verb} for ${what}: ${v.reason} (expected ${v.expected})`,
  };
}

/** Stored states of one rule, firing first. */
export async function readStates(db: SqlRunner, name: string): Promise<StoredState[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT dimension_value, state, measured, expected, reason, since, checked_at FROM monitor_states
     WHERE monitor = ? ORDER BY CASE WHEN state = 'firing' THEN 0 ELSE 1 END, dimension_value`,
    [name],
  );
  return rows.map((r) => ({
    value: String(r.dimension_value),
    state: r.state === 'firing' ? 'firing' : 'ok',
    measured: r.measured === null || r.measured === undefined ? null : Number(r.measured),
    expected: String(r.expected),
    reason: String(r.reason),
    since: new Date(Number(r.since)),
    checkedAt: new Date(Number(r.checked_at)),
  }));
}

/** The schedule row of a rule, if it was ever seen by an evaluator. */
export async function readSchedule(db: SqlRunner, name: string): Promise<ScheduleInfo | undefined> {
  const [r] = await db.query<Record<string, unknown>>(
    'SELECT due_at, checked_at, error FROM monitor_schedule WHERE monitor = ?',
    [name],
  );
  if (!r) return undefined;
  return {
    dueAt: new Date(Number(r.due_at)),
    checkedAt: r.checked_at === null || r.checked_at === undefined ? null : new Date(Number(r.checked_at)),
    error: r.error === null || r.error === undefined ? null : String(r.error),
  };
}
