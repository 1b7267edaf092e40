// Runs one ingest task in a child process: killed at random by crash.test.ts, measured by large-csv.test.ts.
// With run id `idle` it only starts up as an ingest does (modules, runtime, DuckDB with the spec's
// memory limit, one query) and reports its peak RSS: the baseline of large-csv.test.ts.
import { loadProject } from '../../src/config/index.js';
import { openDuck } from '../../src/duck/index.js';
import { ingestSpecSchema, ingestTaskKind } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { taskContext } from './helpers.js';

const [dir, specJson, runId] = process.argv.slice(2) as [string, string, string];
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
