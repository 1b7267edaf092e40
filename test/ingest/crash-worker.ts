// Runs one ingest task in a child process: killed at random by crash.test.ts, measured by large-csv.test.ts.
import { loadProject } from '../../src/config/index.js';
import { ingestSpecSchema, ingestTaskKind } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { taskContext } from './helpers.js';

const [dir, specJson, runId] = process.argv.slice(2) as [string, string, string];
const runtime = await openRuntime(await loadProject(dir), silentLogger);
try {
  const spec = ingestSpecSchema.parse(JSON.parse(specJson));
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
