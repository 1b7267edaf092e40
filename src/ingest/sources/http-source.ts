/**
 * The HTTP source: one stream per partition value, each paging through the endpoint (page,
 * offset, cursor or next URL in the body, or the `Link` header). Pages are payloads stored
 * byte-for-byte; the next request travels with each page into the ledger, so a fetch cut by a
 * crash continues exactly where it stopped instead of starting over.
 */
import { randomUUID } from 'node:crypto';
import { BackendError, isSecretKey, redactText, redactValue } from '../../util/index.js';
import { authenticator } from '../http/auth.js';
import { HttpClient, type HttpRequest, type HttpResponse } from '../http/client.js';
import { RateLimiter } from '../http/rate-limit.js';
import { xmlRecords } from '../load/convert.js';
import { fieldsOf } from '../load/json-schema.js';
import { valueAtPath } from '../load/record-path.js';
import type { HttpSourceSpec } from '../spec.js';
import { type FetchedPayload, mergeStreams, type Source, type SourceContext } from './types.js';

/** Pagination state carried from one page to the next (and stored in the ledger). */
interface PageState {
  /** The page URL; query parameters of the spec are set again when it is sent (they may hold secrets). */
  url: string;
  page?: number;
  offset?: number;
  /** Pages fetched in this epoch so far. */
  count: number;
}

/** How a page reads: its record count and, for body-driven pagination, the next cursor/URL. */
interface PageInfo {
  records: number;
  next?: string;
  malformed?: string;
  /** Field paths and value kinds of the records (JSON pages). */
  fields?: string[];
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** The URL with the spec's secret-named query parameters masked (they are set again when sent). */
function masked(spec: HttpSourceSpec, url: string): string {
  const secret = Object.keys(spec.params).filter(isSecretKey);
  if (secret.length === 0) return url;
  const u = new URL(url);
  for (const k of secret) if (u.searchParams.has(k)) u.searchParams.set(k, '***');
  return u.toString();
}

/** The URL of `rel="next"` in an RFC 8288 Link header. */
export function nextLink(header: string | undefined, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2] ?? ''))
      return new URL(m[1] as string, base).toString();
  }
  return undefined;
}

async function inspect(spec: HttpSourceSpec, body: Buffer): Promise<PageInfo> {
  const text = body.toString('utf8');
  if (spec.format === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { records: 0, malformed: `malformed JSON: ${(err as Error).message}` };
    }
    const list = valueAtPath(doc, spec.records);
    if (list !== undefined && list !== null && !Array.isArray(list) && spec.records)
      return { records: 0, malformed: `"${spec.records}" is not a list in the response` };
    const p = spec.paginate;
    const nextValue =
      p && (p.style === 'cursor' || p.style === 'next_url') ? valueAtPath(doc, p.path) : undefined;
    return {
      records: Array.isArray(list) ? list.length : list === undefined || list === null ? 0 : 1,
      fields: Array.isArray(list) && spec.records ? fieldsOf(list) : undefined,
      next: nextValue === undefined || nextValue === null || nextValue === '' ? undefined : String(nextValue),
    };
  }
  const lines = text.split('\n').filter((l) => l.trim().length > 0).length;
  if (spec.format === 'csv') return { records: Math.max(0, lines - 1) };
  if (spec.format === 'ndjson') return { records: lines };
  try {
    return { records: (await xmlRecords(text, spec.records)).length };
  } catch (err) {
    return { records: 0, malformed: (err as Error).message };
  }
}

/** The state after `res`, or undefined when the stream is done. */
function nextState(
  spec: HttpSourceSpec,
  state: PageState,
  res: HttpResponse,
  info: PageInfo,
): PageState | undefined {
  const p = spec.paginate;
  if (!p) return undefined;
  if (spec.max_pages !== undefined && state.count + 1 >= spec.max_pages) return undefined;
  const count = state.count + 1;
  switch (p.style) {
    case 'page': {
      if (!info.malformed && (info.records === 0 || (p.size !== undefined && info.records < p.size)))
        return undefined;
      const page = (state.page ?? p.start) + 1;
      return { url: withParams(state.url, { [p.param]: String(page) }), page, count };
    }
    case 'offset': {
      if (!info.malformed && info.records < p.limit) return undefined;
      const offset = (state.offset ?? 0) + (info.malformed ? p.limit : info.records);
      return { url: withParams(state.url, { [p.param]: String(offset) }), offset, count };
    }
    case 'cursor':
      if (info.malformed)
        throw new BackendError(
          `${redactText(state.url)}: ${info.malformed}; the next cursor cannot be read from it`,
        );
      if (info.next === undefined) return undefined;
      return { url: withParams(state.url, { [p.param]: info.next }), count };
    case 'next_url':
      if (info.malformed)
        throw new BackendError(
          `${redactText(state.url)}: ${info.malformed}; the next URL cannot be read from it`,
        );
      if (info.next === undefined) return undefined;
      return { url: new URL(info.next, state.url).toString(), count };
    case 'link_header': {
      const next = nextLink(res.headers.link, state.url);
      return next ? { url: next, count } : undefined;
    }
  }
}

/** The HTTP source of a spec. */
export function httpSource(spec: HttpSourceSpec): Source {
  return {
    cursorField: spec.incremental?.field,
    fetch: (ctx) => fetchAll(spec, ctx),
  };
}

function firstState(spec: HttpSourceSpec, stream: string, cursor: string | undefined): PageState {
  const params: Record<string, string> = { ...spec.params };
  const partitions = spec.partitions;
  if (partitions?.param) params[partitions.param] = stream;
  const p = spec.paginate;
  if (p?.style === 'page') {
    params[p.param] = String(p.start);
    if (p.size_param && p.size !== undefined) params[p.size_param] = String(p.size);
  } else if (p?.style === 'offset') {
    params[p.param] = '0';
    params[p.limit_param] = String(p.limit);
  }
  const since = cursor ?? spec.incremental?.initial;
  if (spec.incremental && since !== undefined) params[spec.incremental.param] = since;
  const url = withParams(spec.url.replaceAll('{partition}', encodeURIComponent(stream)), params);
  return {
    url,
    page: p?.style === 'page' ? p.start : undefined,
    offset: p?.style === 'offset' ? 0 : undefined,
    count: 0,
  };
}

function fetchAll(spec: HttpSourceSpec, ctx: SourceContext): AsyncIterable<FetchedPayload> {
  const client = new HttpClient({
    auth: authenticator(spec.auth, spec.timeout),
    limiter: spec.rate_limit ? new RateLimiter(spec.rate_limit) : undefined,
    timeoutMs: spec.timeout,
    allowLinkLocal: spec.allow_link_local,
    maxAttempts: spec.retry.max_attempts,
    backoff: { initialMs: spec.retry.initial, maxMs: spec.retry.max },
    onRetry: (info) => {
      ctx.log.warn({ attempt: info.attempt, delayMs: info.delayMs, reason: info.reason }, 'request retried');
      ctx.onRetry?.(info);
    },
  });
  const streams = spec.partitions ? spec.partitions.values : [''];
  return mergeStreams(
    streams.map((stream) => () => {
      const open = ctx.openEpochs.find((o) => o.stream === stream);
      if (open) {
        ctx.log.info({ stream, epoch: open.epoch, seq: open.seq }, 'continuing an interrupted fetch');
        return pages(spec, client, ctx, stream, open.epoch, open.seq + 1, open.nextRequest as PageState);
      }
      const epoch = randomUUID().slice(0, 13);
      return pages(spec, client, ctx, stream, epoch, 0, firstState(spec, stream, ctx.cursor[stream]));
    }),
    spec.concurrency,
  );
}

async function* pages(
  spec: HttpSourceSpec,
  client: HttpClient,
  ctx: SourceContext,
  stream: string,
  epoch: string,
  firstSeq: number,
  first: PageState,
): AsyncIterable<FetchedPayload> {
  let state: PageState | undefined = first;
  for (let seq = firstSeq; state; seq++) {
    ctx.signal.throwIfAborted();
    const req: HttpRequest = {
      method: spec.method,
      url: withParams(state.url, spec.params),
      headers: spec.headers,
      body: spec.body,
    };
    const res = await client.send(req, ctx.signal);
    const info = await inspect(spec, res.body);
    const next = nextState(spec, state, res, info);
    yield {
      stream,
      epoch,
      seq,
      body: res.body,
      format: spec.format,
      sourceUri: masked(spec, state.url),
      request: { method: spec.method, ...state, url: masked(spec, state.url) },
      nextRequest: next && { ...next, url: masked(spec, next.url) },
      headers: redactValue(res.headers) as Record<string, string>,
      malformed: info.malformed,
      fields: info.fields,
      recordCount: info.malformed ? undefined : info.records,
      fetchedAt: new Date(),
    };
    state = next;
  }
}
