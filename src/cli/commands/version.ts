import type { GlobalOptions } from '../main.js';
import { createOutput } from '../output.js';
import { packageVersion } from '../version.js';

export default async function version(_args: unknown[], globals: GlobalOptions): Promise<number> {
  const out = createOutput(globals.json ?? false);
  const info = {
    sluice: packageVersion(),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  };
  out.result(info);
  out.line(`sluice ${info.sluice} (node ${info.node}, ${info.platform})`);
  return 0;
}
