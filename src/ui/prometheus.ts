/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

/** Parse Prometheus text (format 0.0.4) into samples; comments and malformed lines are skipped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = parseValue(m[3] ?? '');
    if (value === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] ?? ''] = unescapeLabel(l[2] ?? '');
    samples.push({ name: m[1] ?? '', labels, value });
  }
  return samples;
}

/** Sum of every sample named `name` over all label sets; undefined when there is none. */
export function sumOf(samples: readonly Sample[], name: string): number | undefined {
  let sum: number | undefined;
  for (const s of samples) if (s.name === name) sum = (sum ?? 0) + s.value;
  return sum;
}

/**
 * Per-second rate of a counter between two readings; a counter that went down was
 * reset (the process restarted), so the new reading is all the increase.
 */
export function counterRate(prev: number, next: number, elapsedMs: number): number | undefined {
  if (elapsedMs <= 0) return undefined;
  const increase = next >= prev ? next - prev : next;
  return (increase * 1000) / elapsedMs;
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}

function unescapeLabel(s: string): string {
  return s.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
}
