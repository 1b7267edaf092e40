/** A scaffolded project holding a copy of a dbt project, with an engine for checking results. */
import { appendFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Engine, type EngineSession, openEngine } from '../../src/engine/index.js';
import { type LoadOptions, loadModelsProject, type ModelsProject } from '../../src/models/index.js';
import { query, type TestProject, testProject } from '../engine/helpers.js';

/** The dbt project fixture written for these tests. */
export const SHOP = fileURLToPath(new URL('../../../test/fixtures/dbt-shop/', import.meta.url));

export interface ModelsTestProject extends TestProject {
  /** Directory of the copied dbt project. */
  dbt: string;
  engine: Engine;
  reader: EngineSession;
  load(o?: LoadOptions): ModelsProject;
  rows(sql: string): Promise<unknown[][]>;
  write(path: string, text: string): void;
  append(path: string, text: string): void;
}

/** A project whose `dbt/` directory holds `files`, or a copy of the dbt-shop fixture. */
export async function modelsProject(files?: Record<string, string>): Promise<ModelsTestProject> {
  const p = await testProject();
  const dbt = join(p.dir, 'dbt');
  if (files) {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dbt, path)), { recursive: true });
      writeFileSync(join(dbt, path), text);
    }
  } else cpSync(SHOP, dbt, { recursive: true });
  const engine = await openEngine(p.runtime, { fileAccess: 'all' });
  const reader = await engine.openSession({ name: 'reader', readOnly: false });
  return {
    ...p,
    dbt,
    engine,
    reader,
    load: (o) => loadModelsProject(dbt, o),
    rows: (sql) => query(reader, sql),
    write(path, text) {
      mkdirSync(dirname(join(dbt, path)), { recursive: true });
      writeFileSync(join(dbt, path), text);
    },
    append(path, text) {
      appendFileSync(join(dbt, path), text);
    },
    async remove() {
      await reader.close();
      await engine.close();
      await p.remove();
    },
  };
}

/** The app's event source of the shop fixture: `app_raw.events`. */
export async function createEvents(
  p: ModelsTestProject,
  from: number,
  to: number,
  loadedAt: string,
): Promise<void> {
  const exists = (
    await p.rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'app_raw'")
  )[0]?.[0];
  const select = `SELECT i AS event_id, 1 + i % 6 AS customer_id, CASE WHEN i % 3 = 0 THEN 'PURCHASE' ELSE 'View' END AS kind,
    TIMESTAMPTZ '${loadedAt}' + to_seconds(i) AS loaded_at FROM range(${from}, ${to}) t(i)`;
  await p.rows(exists ? `INSERT INTO app_raw.events ${select}` : `CREATE TABLE app_raw.events AS ${select}`);
}
