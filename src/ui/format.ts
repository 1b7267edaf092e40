/** "3 d 4 h", "2 h 5 min", "4 min 12 s", "9 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return s % 60 > 0 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${s} s`;
}

/** Bytes in binary units: "512 B", "38.2 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${trimZeros(v.toFixed(i === 0 ? 0 : v < 10 ? 2 : 1))} ${units[i]}`;
}

/** A rate with a precision that suits its size: "0.42/s", "12.5/s", "340/s". */
export function formatRate(perSecond: number): string {
  const digits = perSecond < 1 ? 2 : perSecond < 100 ? 1 : 0;
  return `${trimZeros(perSecond.toFixed(digits))}/s`;
}

/** Local wall-clock time of an ISO timestamp, with the date when it is not today. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** "2.00" → "2", "1.50" → "1.5": round scale values read better without padding. */
function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** "5 min ago" for a past ISO time, "in 12 min" for a future one. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (Math.abs(seconds) < 1) return 'now';
  return seconds > 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(-seconds)} ago`;
}

/** A duration in seconds, finer below a minute ("850 ms", "4.2 s", "3 min 5 s"). */
export function formatElapsed(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${trimZeros(seconds.toFixed(1))} s`;
  return formatDuration(seconds);
}
