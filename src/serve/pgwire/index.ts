// PostgreSQL wire protocol SQL endpoint over the query engine.
export type { PgAuthOptions, PgUser } from './auth.js';
export { type PgWireOptions, type PgWireServer, startPgWireServer } from './server.js';
export { type StartPgWireOptions, startPgWire } from './start.js';
