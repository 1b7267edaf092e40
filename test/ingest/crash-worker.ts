// Runs one ingest task in a child process: killed at random by crash.test.ts, measured by large-csv.test.ts.
// With run id `idle` it only starts up as an ingest does (modules, runtime, DuckDB with the spec's
// memory limit, one query) and reports its peak RSS: the baseline of large-csv.test.ts.
// With `kill-after-schema-change` as 4th argument it kills itself with SIGKILL right after the
// sink commits a schema change, before the batch's data commit (drift-nested.test.ts).
import { loadProject } from '../../src/config/index.js';
import { openDuck } from '../../src/duck/index.js';
import { ingestSpecSchema, ingestTaskKind } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { Table } from '../../src/table/table.js';
import { taskContext } from './helpers.js';

const [dir, specJson, runId, fault] = process.argv.slice(2) as [string, string, string, string?];
if (fault === 'kill-after-schema-change') {
  const evolve = Table.prototype.evolveSchema;
  Table.prototype.evolveSchema = async function (this: Table, ...args) {
    const schema = await evolve.apply(this, args);
    process.kill(process.pid, 'SIGKILL');
    return schema;
  };
}
const runtime = await openRuntime(await loadProject(dir), silentLogger);
try {
  const spec = ingestSpecSchema.parse(JSON.parse(specJson));
  if (runId === 'idle') {
    const duck = await openDuck({ memoryLimit: spec.memory_limit, maxConnections: 4 });
    await duck.all('SELECT 42');
    await duck.close();
    process.stdout.write(`${JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
    process.exit(0);
  }
  const result = await ingestTaskKind.run(
    taskContext(runtime, { pipeline: 'crash', taskId: 'fetch', runId }),
    spec,
  );
  process.stdout.write(
    `${JSON.stringify({ ...result.summary, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
} finally {
  await runtime.close();
}
