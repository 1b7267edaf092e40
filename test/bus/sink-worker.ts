/** Runs the lake sink of a project in its own process (the crash test SIGKILLs it). */

import { sinkEventsToTable } from '../../src/bus/lake-sink.js';
import { openEventLog } from '../../src/bus/log/index.js';
import { loadProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';

const [dir = '', eventType = '', batch = '20'] = process.argv.slice(2);
const project = await loadProject(dir);
const runtime = await openRuntime(project, createLogger({ level: 'silent', stderr: false }));
const eventLog = await openEventLog(project.config.bus, { dataDir: project.dataDir, log: runtime.log });
const result = await sinkEventsToTable(runtime, eventLog, {
  eventType,
  latenessMs: 0,
  maxBatchEvents: Number(batch),
  untilCaughtUp: true,
  signal: new AbortController().signal,
  onCommit: (c) => process.stdout.write(`commit ${c.events}\n`),
});
process.stdout.write(`done ${result.events}\n`);
await eventLog.close();
await runtime.close();
