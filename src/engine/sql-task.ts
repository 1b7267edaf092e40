/**
 * The `sql` task kind: run a SQL file (e.g. `sql/refresh.sql`) or inline
 * statements through the engine, as the pipeline. Each statement that writes a lake table is
 * one Iceberg commit, so readers never see a half-built model.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import type { TaskContext, TaskKind, TaskResult } from '../runtime/tasks.js';
import { InvalidInputError } from '../util/index.js';
import { openEngine } from './engine.js';
import { splitStatements } from './lexer.js';

/** `sql: models/x.sql`, or `sql: { file }` / `sql: { statement }` with options. */
export const sqlTaskSchema = z.union([
  z.string().min(1).describe('Path of a .sql file (relative to the project), or SQL text.'),
  z.strictObject({
    file: z.string().min(1).optional().describe('Path of a .sql file, relative to the project.'),
    statement: z.string().min(1).optional().describe('SQL statements, `;`-separated.'),
    timeout_ms: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Timeout of each statement (default: engine.statementTimeoutMs).'),
  }),
]);

export type SqlTaskSpec = z.infer<typeof sqlTaskSchema>;

/** The text a spec runs: a file's contents, or the statements themselves. */
async function sqlOf(ctx: TaskContext, spec: SqlTaskSpec): Promise<{ text: string; source: string }> {
  const asObject =
    typeof spec === 'string'
      ? /\.sql$/i.test(spec.trim())
        ? { file: spec.trim() }
        : { statement: spec }
      : spec;
  if (asObject.statement !== undefined) return { text: asObject.statement, source: 'inline SQL' };
  if (asObject.file === undefined) throw new InvalidInputError('a sql task needs `file` or `statement`');
  const dir = ctx.runtime.project.dir;
  const path = isAbsolute(asObject.file) ? asObject.file : join(dir, asObject.file);
  if (relative(dir, path).startsWith('..'))
    throw new InvalidInputError(`sql file ${asObject.file} is outside the project directory`);
  try {
    return { text: await readFile(path, 'utf8'), source: asObject.file };
  } catch (err) {
    throw new InvalidInputError(`cannot read sql file ${asObject.file}: ${(err as Error).message}`);
  }
}

/** The task kind registered as `sql`. */
export const sqlTaskKind: TaskKind<SqlTaskSpec> = {
  name: 'sql',
  schema: sqlTaskSchema,
  async run(ctx, spec): Promise<TaskResult> {
    const { text, source } = await sqlOf(ctx, spec);
    const statements = splitStatements(text);
    if (statements.length === 0) throw new InvalidInputError(`${source} holds no SQL statement`);
    const engine = await openEngine(ctx.runtime, { fileAccess: 'lake' });
    const timeoutMs = typeof spec === 'object' ? spec.timeout_ms : undefined;
    let rowsChanged = 0;
    try {
      const session = await engine.openSession({ name: `pipeline:${ctx.pipeline}`, readOnly: false });
      try {
        for (const [i, statement] of statements.entries()) {
          ctx.progress({ phase: 'sql', message: `${source}: statement ${i + 1} of ${statements.length}` });
          const result = await session.run(statement, { signal: ctx.signal, timeoutMs });
          for await (const _ of result.batches()) {
            // Results of a model's statements are not kept; consuming them finishes the statement.
          }
          rowsChanged += result.rowsChanged ?? 0;
          ctx.log.info(
            { source, statement: i + 1, type: result.statementType, rows: result.rowsChanged },
            'sql statement done',
          );
        }
      } finally {
        await session.close();
      }
    } finally {
      await engine.close();
    }
    ctx.progress({ phase: 'done', rows: rowsChanged });
    return { summary: { source, statements: statements.length, rowsChanged } };
  },
};
