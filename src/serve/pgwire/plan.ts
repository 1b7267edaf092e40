/**
 * What to do with one statement: run it in the engine (after compatibility rewrites), answer
 * it here (SET/SHOW/transaction control/catalog queries), or stream it as COPY TO STDOUT.
 */

import { answerCatalogQuery, type LocalAnswer, rewriteForDuckDb, SERVER_VERSION } from './catalog.js';
import { type CursorPlan, planCursor } from './cursors.js';
import { OID } from './oids.js';
import { stripComments } from './sql-text.js';
import { ProtocolError } from './sqlstate.js';

/** Answers GRANT/REVOKE for the connection's user (absent: config users, who cannot). */
export type GrantHandler = (text: string) => LocalAnswer;

/** A statement's plan. */
export type Plan =
  | { kind: 'empty' }
  | { kind: 'engine'; sql: string }
  | ({ kind: 'local' } & LocalAnswer)
  | { kind: 'copy'; sql: string; options: CopyOptions }
  | CursorPlan;

/** Options of COPY ... TO STDOUT. */
export interface CopyOptions {
  csv: boolean;
  header: boolean;
  delimiter: string;
  null: string;
}

/** Connection-scoped settings as clients see them (SHOW, current_setting, ParameterStatus). */
export class SessionSettings {
  readonly values = new Map<string, string>([
    ['server_version', SERVER_VERSION],
    ['server_version_num', '150000'],
    ['server_encoding', 'UTF8'],
    ['client_encoding', 'UTF8'],
    ['datestyle', 'ISO, MDY'],
    ['intervalstyle', 'postgres'],
    ['timezone', 'UTC'],
    ['integer_datetimes', 'on'],
    ['standard_conforming_strings', 'on'],
    ['is_superuser', 'off'],
    ['application_name', ''],
    ['default_transaction_read_only', 'off'],
    ['in_hot_standby', 'off'],
    ['search_path', '"$user", public'],
    ['extra_float_digits', '1'],
    ['statement_timeout', '0'],
    ['transaction_isolation', 'read committed'],
    ['max_identifier_length', '63'],
    ['lc_collate', 'C'],
    ['lc_ctype', 'C'],
    ['bytea_output', 'hex'],
  ]);

  /** Names reported with ParameterStatus at startup and when changed. */
  static readonly REPORTED: Record<string, string> = {
    server_version: 'server_version',
    server_encoding: 'server_encoding',
    client_encoding: 'client_encoding',
    datestyle: 'DateStyle',
    intervalstyle: 'IntervalStyle',
    timezone: 'TimeZone',
    integer_datetimes: 'integer_datetimes',
    standard_conforming_strings: 'standard_conforming_strings',
    is_superuser: 'is_superuser',
    application_name: 'application_name',
    default_transaction_read_only: 'default_transaction_read_only',
    in_hot_standby: 'in_hot_standby',
  };

  get(name: string): string | undefined {
    return this.values.get(name.toLowerCase());
  }

  /** `statement_timeout` in ms for the engine (undefined: the engine's default). */
  timeoutMs(): number | undefined {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$/i.exec(this.get('statement_timeout') ?? '');
    if (!m) return undefined;
    const scale: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };
    const ms = Math.round(Number(m[1]) * (scale[(m[2] ?? 'ms').toLowerCase()] ?? 1));
    return ms > 0 ? ms : undefined;
  }
}

/** Names whose values only matter to the client: SET stores them, the engine never sees them. */
const CLIENT_SETTINGS = new Set([
  'client_encoding',
  'datestyle',
  'intervalstyle',
  'timezone',
  'application_name',
  'extra_float_digits',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'standard_conforming_strings',
  'client_min_messages',
  'bytea_output',
  'default_transaction_isolation',
  'default_transaction_read_only',
  'transaction_isolation',
  'search_path',
  'lc_messages',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'jit',
  'synchronous_commit',
  'row_security',
  'escape_string_warning',
  'session_replication_role',
  'geqo',
]);

const TRANSACTION = /^(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release)\b/i;

/** Plan one statement (without its trailing semicolon). @throws ProtocolError for unsupported forms */
export function planStatement(sql: string, settings: SessionSettings, grants?: GrantHandler): Plan {
  const text = stripComments(sql).trim();
  if (text === '') return { kind: 'empty' };
  const words = text.split(/\s+/, 3).map((w) => w.toLowerCase());
  if (words[0] === 'grant' || words[0] === 'revoke') {
    if (!grants)
      throw new ProtocolError('0A000', `${words[0].toUpperCase()} needs a user of the auth store`, false, {
        hint: 'manage grants with: sluice grants add ROLE PRIVILEGE namespace:NS',
      });
    return { kind: 'local', ...grants(text) };
  }
  if (TRANSACTION.test(text)) return transaction(words);
  if (words[0] === 'set') return setStatement(text, settings);
  if (words[0] === 'show') return show(text, settings);
  if (
    words[0] === 'discard' ||
    words[0] === 'deallocate' ||
    (words[0] === 'reset' && words[1] !== undefined)
  ) {
    return noRows(words[0] === 'discard' ? 'DISCARD ALL' : words[0].toUpperCase());
  }
  if (words[0] === 'copy') return copy(text, settings);
  const cursor = planCursor(text, settings);
  if (cursor) return cursor;
  const catalog = answerCatalogQuery(text);
  if (catalog) return { kind: 'local', ...catalog };
  return { kind: 'engine', sql: rewriteForDuckDb(sql, (name) => settings.get(name)) };
}

function noRows(tag: string, effect?: () => void): Plan {
  return {
    kind: 'local',
    columns: null,
    run: async () => {
      effect?.();
      return { rows: [], tag };
    },
  };
}

/** Statements run in autocommit mode; transaction control is acknowledged for client compatibility. */
function transaction(words: string[]): Plan {
  const first = words[0] as string;
  const tag =
    first === 'begin' || first === 'start'
      ? 'BEGIN'
      : first === 'commit' || first === 'end'
        ? 'COMMIT'
        : first === 'savepoint'
          ? 'SAVEPOINT'
          : first === 'release'
            ? 'RELEASE'
            : 'ROLLBACK';
  return noRows(tag);
}

function setStatement(text: string, settings: SessionSettings): Plan {
  const m = /^set\s+(?:session\s+|local\s+)?([\w.]+)\s*(?:=|\bto\b)\s*([\s\S]*)$/i.exec(text);
  const tz = /^set\s+(?:session\s+|local\s+)?time\s+zone\s+([\s\S]*)$/i.exec(text);
  if (/^set\s+(session\s+characteristics|transaction)\b/i.test(text)) return noRows('SET');
  const name = tz ? 'timezone' : m?.[1]?.toLowerCase();
  const raw = (tz ? tz[1] : m?.[2])?.trim();
  if (!name || raw === undefined) return { kind: 'engine', sql: text };
  const value = raw.replace(/^'(.*)'$/s, '$1').replace(/''/g, "'");
  if (name === 'client_encoding' && !/^(utf-?8|unicode)$/i.test(value) && !/^default$/i.test(value)) {
    throw new ProtocolError(
      '22023',
      `client_encoding "${value}" is not supported: this server speaks UTF8 only`,
    );
  }
  if (!CLIENT_SETTINGS.has(name)) return { kind: 'engine', sql: text };
  if (name === 'search_path') return searchPath(raw, settings);
  return noRows('SET', () => settings.values.set(name, /^default$/i.test(value) ? '' : value));
}

/** SET search_path: PostgreSQL's list syntax → the engine's, without "$user", public and pg_catalog. */
function searchPath(raw: string, settings: SessionSettings): Plan {
  const schemas = raw
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^'(.*)'$/, '$1')
        .replace(/^"(.*)"$/, '$1'),
    )
    .filter((s) => s !== '' && !/^(\$user|public|pg_catalog|default)$/i.test(s));
  if (schemas.some((s) => !/^[\w$-]+$/.test(s))) {
    throw new ProtocolError('22023', `invalid value for parameter "search_path": "${raw}"`);
  }
  const list = schemas.length > 0 ? schemas.join(',') : 'main';
  return {
    kind: 'local',
    columns: null,
    async run(session, signal) {
      const result = await session.run(`SET search_path = '${list}'`, { signal });
      await result.close();
      settings.values.set('search_path', raw);
      return { rows: [], tag: 'SET' };
    },
  };
}

function show(text: string, settings: SessionSettings): Plan {
  const name = /^show\s+(?:time\s+zone|([\w."]+))\s*$/i.exec(text);
  if (!name) return { kind: 'engine', sql: text };
  const key = (name[1] ?? 'timezone').replace(/"/g, '').toLowerCase();
  if (key === 'all') {
    return {
      kind: 'local',
      columns: [
        { name: 'name', oid: OID.text },
        { name: 'setting', oid: OID.text },
        { name: 'description', oid: OID.text },
      ],
      run: async () => ({ rows: [...settings.values].map(([k, v]) => [k, v, '']), tag: 'SHOW' }),
    };
  }
  const value = settings.get(key);
  if (value === undefined) throw new ProtocolError('42704', `unrecognized configuration parameter "${key}"`);
  return {
    kind: 'local',
    columns: [{ name: key, oid: OID.text }],
    run: async () => ({ rows: [[value]], tag: 'SHOW' }),
  };
}

/** COPY (query) TO STDOUT / COPY table [(cols)] TO STDOUT [WITH (FORMAT csv, HEADER, DELIMITER 'x', NULL 'y')]. */
function copy(text: string, settings: SessionSettings): Plan {
  const m = /^copy\s+([\s\S]+?)\s+to\s+stdout\b\s*(?:with\s*)?([\s\S]*)$/i.exec(text);
  if (!m) {
    throw new ProtocolError('0A000', 'only COPY ... TO STDOUT is supported', false, {
      hint: 'lake tables are written by pipelines; use COPY (query) TO STDOUT or psql \\copy ... to FILE',
    });
  }
  const source = (m[1] as string).trim();
  const opts = (m[2] ?? '').replace(/^\(|\)$/g, '');
  const csv = /\bformat\s+'?csv'?|\bcsv\b/i.test(opts);
  if (/\bformat\s+'?binary'?|\bbinary\b/i.test(opts)) {
    throw new ProtocolError('0A000', 'COPY in binary format is not supported; use text or csv');
  }
  const delimiter = /\bdelimiter\s+(?:as\s+)?'(.)'/i.exec(opts)?.[1] ?? (csv ? ',' : '\t');
  const nullText = /\bnull\s+(?:as\s+)?'([^']*)'/i.exec(opts)?.[1] ?? (csv ? '' : '\\N');
  const header = /\bheader\b(?!\s+(false|off|0)\b)/i.test(opts);
  const query = source.startsWith('(') ? source.slice(1, source.lastIndexOf(')')) : tableQuery(source);
  return {
    kind: 'copy',
    sql: rewriteForDuckDb(query, (name) => settings.get(name)),
    options: { csv, header, delimiter, null: nullText },
  };
}

function tableQuery(source: string): string {
  const m = /^([\w."]+)\s*(?:\(([^)]*)\))?$/.exec(source);
  if (!m) throw new ProtocolError('42601', `syntax error in COPY source "${source.slice(0, 60)}"`);
  return `SELECT ${m[2]?.trim() || '*'} FROM ${m[1]}`;
}
