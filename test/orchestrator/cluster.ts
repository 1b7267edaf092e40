/** Worker and scheduler processes (`sluice serve --role ...`) on a shared project, for scale-out tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { sluiceBin } from '../helpers/cli.js';

export interface ServeProcess {
  child: ChildProcess;
  /** Resolves once the process printed that it is serving. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  output(): string;
}

/** Start `sluice serve --role ROLE` for the project in `dir`. */
export function startServe(dir: string, role: 'worker' | 'scheduler' | 'all'): ServeProcess {
  const child = spawn(
    process.execPath,
    [sluiceBin, '--project', dir, 'serve', '--role', role, '--http-port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_ENV: '' },
    },
  );
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl-C to stop.')) resolve();
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) => reject(new Error(`serve --role ${role} exited with ${code}: ${out}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited, output: () => out };
}

/** Stop processes with SIGTERM and wait for them. */
export async function stopAll(procs: ServeProcess[]): Promise<void> {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
}
