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
