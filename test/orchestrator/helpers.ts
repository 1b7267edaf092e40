/** A throwaway project with pipelines, an orchestrator on it, and a worker. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject } from '../../src/config/index.js';
import { silentLogger } from '../../src/observe/index.js';
import {
  type Orchestrator,
  type OrchestratorOptions,
  openOrchestrator,
} from '../../src/orchestrator/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';

export interface TestProject {
  dir: string;
  runtime: Runtime;
  orch: Orchestrator;
  write(path: string, text: string): void;
  close(): Promise<void>;
}

/** Write `files` (path → text) into a temp dir holding sluice.yaml. */
export function projectDir(files: Record<string, string>, sluiceYaml = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-orch-'));
  writeFileSync(join(dir, 'sluice.yaml'), `name: orch-test\n${sluiceYaml}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Open a project with the given files; the orchestrator is ready, no worker started. */
export async function openTestProject(
  files: Record<string, string>,
  o: { sluiceYaml?: string; options?: OrchestratorOptions; dir?: string } = {},
): Promise<TestProject> {
  const dir = o.dir ?? projectDir(files, o.sluiceYaml);
  const project = await loadProject(dir, { env: {} });
  const runtime = await openRuntime(project, silentLogger);
  let orch: Orchestrator;
  try {
    orch = await openOrchestrator(runtime, o.options);
  } catch (err) {
    await runtime.close();
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    runtime,
    orch,
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    async close() {
      await orch.close({ abort: true });
      await runtime.close();
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Task states of a run as { id: state }. */
export async function statesOf(orch: Orchestrator, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await orch.taskRuns(runId)) out[t.taskId] = t.state;
  return out;
}

/** A fresh PostgreSQL database and S3 prefix, as sluice.yaml lines for a project on them. */
export async function postgresS3Config(): Promise<{ sluiceYaml: string; close(): Promise<void> }> {
  const { createTestDatabase } = await import('../helpers/postgres.js');
  const { useS3: startS3 } = await import('../helpers/s3.js');
  const db = await createTestDatabase();
  const s3 = await startS3();
  return {
    sluiceYaml: `metastore: { url: "${db.url}", poolMax: 4 }\nstorage: ${JSON.stringify(s3.storage('lake'))}\n`,
    async close() {
      await s3.stop();
      await db.drop();
    },
  };
}

/** True while process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
