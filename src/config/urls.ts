/** Checks of the URLs sluice.yaml accepts; each returns a problem or undefined. */
import { redactText } from '../util/index.js';

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/;

function schemeOf(url: string): string | undefined {
  return SCHEME.exec(url)?.[1]?.toLowerCase();
}

function quoted(raw: string): string {
  const text = redactText(raw);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** `file://PATH` or `s3://BUCKET[/PREFIX]`. */
export function checkStorageUrl(url: string): string | undefined {
  const expected =
    'expected file://PATH (a local directory) or s3://BUCKET/PREFIX (S3 or an S3-compatible store)';
  const scheme = schemeOf(url);
  if (!scheme) return `${expected}, found ${quoted(url)}`;
  if (scheme === 'file') {
    return url.length > 'file://'.length && url.startsWith('file://')
      ? undefined
      : `${expected}, found ${quoted(url)}`;
  }
  if (scheme === 's3') {
    const bucket = /^s3:\/\/([^/?#]*)/i.exec(url)?.[1];
    if (!bucket) return `expected s3://BUCKET/PREFIX, found ${quoted(url)}`;
    if (!S3_BUCKET.test(bucket)) {
      return `invalid S3 bucket name "${bucket}": expected 3–63 lowercase letters, digits, dots or hyphens`;
    }
    return undefined;
  }
  return `unsupported scheme "${scheme}:" — ${expected}`;
}

/** `sqlite://PATH` (or `sqlite://:memory:`) or `postgres://` / `postgresql://`. */
export function checkMetastoreUrl(url: string): string | undefined {
  const expected = 'expected sqlite://PATH or postgres://USER@HOST[:PORT]/DATABASE';
  const scheme = schemeOf(url);
  if (!scheme) return `${expected}, found a value without a scheme`;
  if (scheme === 'sqlite') {
    return url.startsWith('sqlite://') && url.length > 'sqlite://'.length ? undefined : `${expected}`;
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    try {
      const parsed = new URL(url);
      return parsed.hostname || parsed.searchParams.has('host') ? undefined : 'postgres URL has no host';
    } catch {
      return `${expected}: the postgres URL cannot be parsed`;
    }
  }
  return `unsupported scheme "${scheme}:" — ${expected}`;
}

/** `embedded` or `kafka://HOST:PORT[,HOST:PORT...]`. */
export function checkBusLog(value: string): string | undefined {
  const expected = 'expected "embedded" or kafka://HOST:PORT[,HOST:PORT]';
  if (value === 'embedded') return undefined;
  const scheme = schemeOf(value);
  if (scheme === 'kafka') {
    const brokers = value.slice('kafka://'.length).replace(/\/$/, '').split(',');
    const ok = value.startsWith('kafka://') && brokers.every((b) => HOST_PORT.test(b.trim()));
    return ok ? undefined : `${expected}, found ${quoted(value)}`;
  }
  if (scheme) return `unsupported scheme "${scheme}:" — ${expected}`;
  return `${expected}, found ${quoted(value)}`;
}
