// Runs CDC for a test project until killed: node cdc-worker.js PROJECT_TMP_DIR SOURCE_URL
import { runCdc } from '../../src/ingest/cdc/index.js';
import { reopenRuntime, testSpec } from './cdc-helpers.js';

const [dir, url] = process.argv.slice(2);
if (!dir || !url) throw new Error('usage: cdc-worker DIR URL');
const runtime = await reopenRuntime(dir);
process.stdout.write('started\n');
await runCdc(runtime, testSpec(url, { change_stream: true }, 'shop_crash'), {
  signal: new AbortController().signal,
});
