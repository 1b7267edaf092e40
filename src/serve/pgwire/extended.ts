/**
 * The extended query protocol: Parse/Bind/Describe/Execute/Close/Sync/Flush with named and
 * unnamed prepared statements and portals, parameters, and row limits per Execute. After an
 * error, messages are discarded until Sync (PostgreSQL docs, "Extended Query").
 */
import { splitStatements } from '../../engine/lexer.js';
import type { PreparedShape } from '../../engine/types.js';
import type { QueryContext } from './connection.js';
import { backend, type MessageReader, violation } from './messages.js';
import { OID, oidOf } from './oids.js';
import { decodeParam } from './params.js';
import { type Plan, planStatement } from './plan.js';
import {
  commandTag,
  localColumns,
  looksLikeRows,
  RowCursor,
  returnsRows,
  sendCopy,
  sendLocalRows,
  type WireColumn,
  wireColumns,
} from './results.js';
import { applyTransaction, countChanged, runCursorStatement } from './simple.js';
import { ProtocolError, wireError } from './sqlstate.js';

const MAX_PREPARED = 1000;

interface Prepared {
  sql: string;
  plan: Plan;
  paramOids: number[];
  shape?: PreparedShape;
}

interface Portal {
  statement: Prepared;
  params: unknown[];
  formats: number[];
  cursor?: RowCursor;
  /** Set once the portal ran to completion (a further Execute repeats its tag with no rows). */
  doneTag?: string;
}

/** Extended-protocol state of one connection. */
export class ExtendedProtocol {
  #statements = new Map<string, Prepared>();
  #portals = new Map<string, Portal>();
  #skipping = false;

  constructor(readonly q: QueryContext) {}

  /** Handle one message of the extended protocol. */
  async handle(type: string, r: MessageReader): Promise<void> {
    if (type === 'S') {
      this.#skipping = false;
      if (this.q.status === 'I') await this.#closePortals();
      await this.q.send(backend.readyForQuery(this.q.status));
      return;
    }
    if (type === 'H' || this.#skipping) return;
    try {
      if (type === 'P') await this.#parse(r);
      else if (type === 'B') await this.#bind(r);
      else if (type === 'D') await this.#describe(r);
      else if (type === 'E') await this.#execute(r);
      else if (type === 'C') await this.#close(r);
    } catch (err) {
      if (err instanceof ProtocolError && err.fatal) throw err;
      this.#skipping = true;
      if (this.q.status === 'T') this.q.status = 'E';
      if (type === 'E') this.q.onQuery?.(false);
      await this.q.send(backend.error(wireError(err)));
    }
  }

  /** Release every open result (connection closing). */
  async closeAll(): Promise<void> {
    await this.#closePortals();
  }

  async #parse(r: MessageReader): Promise<void> {
    const name = r.cstring();
    const sql = r.cstring();
    const count = r.count(4);
    const paramOids: number[] = [];
    for (let i = 0; i < count; i++) paramOids.push(r.int32());
    if (name && this.#statements.has(name)) {
      throw new ProtocolError('42P05', `prepared statement "${name}" already exists`);
    }
    if (name && this.#statements.size >= MAX_PREPARED) {
      throw new ProtocolError(
        '53400',
        `too many prepared statements (limit ${MAX_PREPARED}); close unused ones`,
      );
    }
    const parts = splitStatements(sql);
    if (parts.length > 1) {
      throw new ProtocolError('42601', 'cannot insert multiple commands into a prepared statement');
    }
    const plan = planStatement(parts[0] ?? '', this.q.settings, this.q.grants);
    this.#statements.set(name, { sql: parts[0] ?? '', plan, paramOids });
    await this.q.send(backend.parseComplete());
  }

  async #bind(r: MessageReader): Promise<void> {
    const portalName = r.cstring();
    const statementName = r.cstring();
    const paramFormats = Array.from({ length: r.count(2) }, () => r.int16());
    const raw: (Buffer | null)[] = [];
    const n = r.count(4);
    for (let i = 0; i < n; i++) {
      const len = r.int32();
      raw.push(len === -1 ? null : r.bytes(len));
    }
    const formats = Array.from({ length: r.count(2) }, () => r.int16());
    const statement = this.#statement(statementName);
    if (portalName && this.#portals.has(portalName)) {
      throw new ProtocolError('42P03', `cursor "${portalName}" already exists`);
    }
    const shape = raw.length > 0 ? await this.#shape(statement) : undefined;
    const params = raw.map((value, i) => {
      const format = paramFormats.length === 1 ? paramFormats[0] : (paramFormats[i] ?? 0);
      if (format !== 0 && format !== 1) throw violation(`invalid parameter format code ${format}`);
      return decodeParam(value, format === 1, statement.paramOids[i] ?? 0, shape?.paramTypes[i]);
    });
    await this.#dropPortal(portalName);
    this.#portals.set(portalName, { statement, params, formats });
    await this.q.send(backend.bindComplete());
  }

  async #describe(r: MessageReader): Promise<void> {
    const kind = String.fromCharCode(r.int8());
    const name = r.cstring();
    if (kind === 'S') {
      const statement = this.#statement(name);
      const shape = statement.plan.kind === 'engine' ? await this.#shape(statement) : undefined;
      const count = Math.max(statement.paramOids.length, shape?.paramTypes.length ?? 0);
      const oids = Array.from({ length: count }, (_, i) => {
        const declared = statement.paramOids[i];
        const inferred = shape?.paramTypes[i];
        return declared || (inferred ? oidOf(inferred) : OID.text);
      });
      await this.q.send(backend.parameterDescription(oids));
      await this.q.send(await this.#rowDescription(statement, []));
    } else if (kind === 'P') {
      const portal = this.#portals.get(name);
      if (!portal && this.q.cursors.has(name)) {
        await this.q.send(backend.rowDescription(this.q.cursors.columns(name, [])));
        return;
      }
      if (!portal) throw new ProtocolError('34000', `portal "${name}" does not exist`);
      await this.q.send(await this.#rowDescription(portal.statement, portal.formats));
    } else {
      throw violation(`invalid Describe target ${JSON.stringify(kind)}`);
    }
  }

  async #rowDescription(statement: Prepared, formats: number[]): Promise<Buffer> {
    const columns = await this.#columns(statement, formats);
    return columns ? backend.rowDescription(columns) : backend.noData();
  }

  async #columns(statement: Prepared, formats: number[]): Promise<WireColumn[] | undefined> {
    const { plan } = statement;
    if (plan.kind === 'local') return plan.columns ? localColumns(plan.columns, formats) : undefined;
    if (plan.kind === 'fetch') return plan.move ? undefined : this.q.cursors.columns(plan.name, formats);
    if (plan.kind !== 'engine' || !looksLikeRows(plan.sql)) return undefined;
    return wireColumns((await this.#shape(statement)).columns, formats);
  }

  async #execute(r: MessageReader): Promise<void> {
    const name = r.cstring();
    const limit = r.int32();
    const portal = this.#portals.get(name);
    if (!portal) throw new ProtocolError('34000', `portal "${name}" does not exist`);
    const signal = this.q.statementSignal();
    const { plan } = portal.statement;
    if (portal.doneTag) {
      await this.q.send(backend.commandComplete(portal.doneTag.replace(/ \d+$/, ' 0')));
      return;
    }
    if (plan.kind === 'empty') {
      await this.q.send(backend.emptyQuery());
      return;
    }
    if (plan.kind === 'local') {
      const rows = await plan.run(this.q.session, signal);
      if (plan.columns) await sendLocalRows(this.q, rows, localColumns(plan.columns, portal.formats));
      await applyTransaction(this.q, rows.tag);
      portal.doneTag = rows.tag;
      await this.q.send(backend.commandComplete(rows.tag));
      return;
    }
    if (plan.kind === 'copy') {
      const result = await this.q.session.run(plan.sql, {
        params: portal.params,
        signal,
        timeoutMs: this.q.settings.timeoutMs(),
      });
      try {
        portal.doneTag = `COPY ${await sendCopy(this.q, result, plan.options, signal)}`;
      } finally {
        await result.close();
      }
      await this.q.send(backend.commandComplete(portal.doneTag));
      return;
    }
    if (plan.kind === 'declare' || plan.kind === 'fetch' || plan.kind === 'close-cursor') {
      const tag = await runCursorStatement(this.q, plan, portal.formats, false, signal);
      if (plan.kind !== 'fetch') portal.doneTag = tag;
      await this.q.send(backend.commandComplete(tag));
      return;
    }
    if (!portal.cursor) {
      const result = await this.q.session.run(plan.sql, {
        params: portal.params,
        signal,
        timeoutMs: this.q.settings.timeoutMs(),
      });
      if (!returnsRows(result.statementType, plan.sql)) {
        try {
          portal.doneTag = commandTag(result.statementType, plan.sql, await countChanged(result));
        } finally {
          await result.close();
        }
        this.q.onQuery?.(true);
        await this.q.send(backend.commandComplete(portal.doneTag));
        return;
      }
      portal.cursor = new RowCursor(result, wireColumns(result.columns, portal.formats));
    }
    const done = await portal.cursor.send(this.q, limit, signal);
    if (!done) {
      await this.q.send(backend.portalSuspended());
      return;
    }
    portal.doneTag = `SELECT ${portal.cursor.rowsSent}`;
    portal.cursor = undefined;
    this.q.onQuery?.(true);
    await this.q.send(backend.commandComplete(portal.doneTag));
  }

  async #close(r: MessageReader): Promise<void> {
    const kind = String.fromCharCode(r.int8());
    const name = r.cstring();
    if (kind === 'S') this.#statements.delete(name);
    else if (kind === 'P') await this.#dropPortal(name);
    else throw violation(`invalid Close target ${JSON.stringify(kind)}`);
    await this.q.send(backend.closeComplete());
  }

  #statement(name: string): Prepared {
    const statement = this.#statements.get(name);
    if (!statement) {
      throw new ProtocolError(
        '26000',
        name ? `prepared statement "${name}" does not exist` : 'unnamed prepared statement does not exist',
      );
    }
    return statement;
  }

  async #shape(statement: Prepared): Promise<PreparedShape> {
    if (statement.plan.kind !== 'engine') return { columns: [], paramTypes: [] };
    const { sql } = statement.plan;
    statement.shape ??= await this.q.session.describe(sql).catch(async (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!/Unexpected type id|param logical type|Could not determine/i.test(message)) throw err;
      const shape = looksLikeRows(sql) ? await this.#shapeByRunning(sql) : undefined;
      if (shape) return shape;
      throw new ProtocolError('42P18', 'could not determine the data types of the parameters', false, {
        cause: err,
        hint: 'add casts to the parameters, e.g. $1::BIGINT',
      });
    });
    return statement.shape;
  }

  /**
   * DuckDB cannot describe some statements before their parameters are bound (table
   * functions taking parameters): run the query with NULL parameters and no rows instead.
   */
  async #shapeByRunning(sql: string): Promise<PreparedShape | undefined> {
    const count = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const params = Array.from({ length: count }, () => null);
    try {
      const result = await this.q.session.run(`SELECT * FROM (${sql}) AS described LIMIT 0`, { params });
      await result.close();
      return { columns: result.columns, paramTypes: params.map(() => undefined) };
    } catch {
      return undefined;
    }
  }

  async #dropPortal(name: string): Promise<void> {
    const portal = this.#portals.get(name);
    this.#portals.delete(name);
    await portal?.cursor?.close();
  }

  async #closePortals(): Promise<void> {
    const open = [...this.#portals.values()];
    this.#portals.clear();
    await Promise.all(open.map((p) => p.cursor?.close()));
  }
}
