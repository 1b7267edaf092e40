/**
 * The simple query protocol: a string of statements, each answered with RowDescription,
 * DataRows and CommandComplete (text format); the first error stops the rest.
 */
import { splitStatements } from '../../engine/lexer.js';
import type { QueryResult } from '../../engine/types.js';
import type { QueryContext } from './connection.js';
import type { CursorPlan } from './cursors.js';
import { backend } from './messages.js';
import { planStatement, SessionSettings } from './plan.js';
import {
  commandTag,
  localColumns,
  RowCursor,
  returnsRows,
  sendCopy,
  sendLocalRows,
  wireColumns,
} from './results.js';
import { wireError } from './sqlstate.js';

/** Run a Query message; ReadyForQuery is sent by the caller. */
export async function runSimpleQuery(q: QueryContext, text: string): Promise<void> {
  const statements = splitStatements(text);
  if (statements.length === 0) {
    await q.send(backend.emptyQuery());
    return;
  }
  for (const sql of statements) {
    try {
      await runStatement(q, sql);
      q.onQuery?.(true);
    } catch (err) {
      q.onQuery?.(false);
      if (q.status === 'T') q.status = 'E';
      await q.send(backend.error(wireError(err)));
      return;
    }
  }
}

async function runStatement(q: QueryContext, sql: string): Promise<void> {
  const plan = planStatement(sql, q.settings, q.grants);
  const signal = q.statementSignal();
  switch (plan.kind) {
    case 'empty':
      await q.send(backend.emptyQuery());
      return;
    case 'local': {
      const rows = await plan.run(q.session, signal);
      if (plan.columns) {
        const columns = localColumns(plan.columns, []);
        await q.send(backend.rowDescription(columns));
        await sendLocalRows(q, rows, columns);
      }
      await applyTransaction(q, rows.tag);
      await q.send(backend.commandComplete(rows.tag));
      return;
    }
    case 'copy': {
      const result = await q.session.run(plan.sql, { signal, timeoutMs: q.settings.timeoutMs() });
      try {
        const n = await sendCopy(q, result, plan.options, signal);
        await q.send(backend.commandComplete(`COPY ${n}`));
      } finally {
        await result.close();
      }
      return;
    }
    case 'engine': {
      const result = await q.session.run(plan.sql, { signal, timeoutMs: q.settings.timeoutMs() });
      await sendResult(q, result, plan.sql, signal);
      return;
    }
    default:
      await q.send(backend.commandComplete(await runCursorStatement(q, plan, [], true, signal)));
  }
}

/** DECLARE/FETCH/MOVE/CLOSE; `describe` sends FETCH's RowDescription first (simple protocol). */
export async function runCursorStatement(
  q: QueryContext,
  plan: CursorPlan,
  formats: number[],
  describe: boolean,
  signal: AbortSignal,
): Promise<string> {
  if (plan.kind === 'declare') {
    await q.cursors.declare(q.session, plan, signal);
    return 'DECLARE CURSOR';
  }
  if (plan.kind === 'close-cursor') {
    await q.cursors.close(plan.name);
    return 'CLOSE CURSOR';
  }
  if (describe && !plan.move) await q.send(backend.rowDescription(q.cursors.columns(plan.name, formats)));
  const n = await q.cursors.fetch(q, plan.name, plan.count, formats, signal, plan.move);
  return `${plan.move ? 'MOVE' : 'FETCH'} ${n}`;
}

/** Send a whole engine result: rows for queries, a command tag for everything. */
async function sendResult(
  q: QueryContext,
  result: QueryResult,
  sql: string,
  signal: AbortSignal,
): Promise<void> {
  try {
    if (returnsRows(result.statementType, sql)) {
      const columns = wireColumns(result.columns, []);
      await q.send(backend.rowDescription(columns));
      const cursor = new RowCursor(result, columns);
      await cursor.send(q, 0, signal);
      await q.send(backend.commandComplete(`SELECT ${cursor.rowsSent}`));
      return;
    }
    const changed = await countChanged(result);
    await q.send(backend.commandComplete(commandTag(result.statementType, sql, changed)));
  } finally {
    await result.close();
  }
}

/** Rows changed by a write: from the result, or DuckDB's single "Count" row. */
export async function countChanged(result: QueryResult): Promise<number> {
  let count = result.rowsChanged;
  for await (const batch of result.batches()) {
    const first = batch[0]?.[0];
    if (count === undefined && (typeof first === 'number' || typeof first === 'bigint'))
      count = Number(first);
  }
  return count ?? 0;
}

/**
 * After a locally answered statement: track BEGIN/COMMIT/ROLLBACK for the ReadyForQuery
 * status (a transaction's end closes its cursors) and report changed settings with
 * ParameterStatus, as drivers expect after SET.
 */
export async function applyTransaction(q: QueryContext, tag: string): Promise<void> {
  if (tag === 'BEGIN') q.status = 'T';
  else if (tag === 'COMMIT' || tag === 'ROLLBACK') {
    q.status = 'I';
    await q.cursors.endTransaction();
  }
  for (const [key, name] of Object.entries(SessionSettings.REPORTED)) {
    const value = q.settings.get(key) ?? '';
    if (q.reported.get(key) === value) continue;
    q.reported.set(key, value);
    await q.send(backend.parameterStatus(name, value));
  }
}
