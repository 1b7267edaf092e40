const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 1024,
  ki: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Bytes in a size such as `10GiB`, `512 MB` or `1.5G` (KB/MB/GB are powers of 1000;
 * KiB/MiB/GiB and the bare K/M/G are powers of 1024). Undefined when not a size.
 */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const [, amount = '', unit = ''] = match;
  const factor = unit === '' ? 1 : UNITS[unit.toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.floor(Number.parseFloat(amount) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Milliseconds in a duration such as `500ms`, `30s`, `5m`, `12h`, `30d`, `1h30m`, or a bare
 * number in `bareUnit` (milliseconds unless said otherwise). Undefined when not a duration.
 */
export function parseDuration(text: string, o: { bareUnit?: 'ms' | 's' } = {}): number | undefined {
  const s = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * (o.bareUnit === 's' ? 1000 : 1));
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d|w)/g)];
  if (
    parts.length === 0 ||
    parts
      .map((p) => p[0])
      .join('')
      .replace(/\s/g, '') !== s.replace(/\s/g, '')
  )
    return undefined;
  let ms = 0;
  for (const [, amount = '', unit = ''] of parts)
    ms += Number.parseFloat(amount) * (DURATION_UNITS[unit] ?? Number.NaN);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
