/** Request and response plumbing of the Iceberg REST server: lossless JSON, namespaces in paths, pages. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { parseJson, stringifyJson } from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';
import { validateNamespace } from '../names.js';

/** A JSON response whose 64-bit integers (snapshot ids) are written exactly. */
export function sendJson(
  c: Context,
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return c.body(stringifyJson(value), status as ContentfulStatusCode, {
    'content-type': 'application/json',
    ...headers,
  });
}

/** A response without a body. */
export function noContent(status = 204, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/**
 * The request body parsed with the bigint-safe parser and validated.
 * @throws InvalidInputError naming each problem (400).
 */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  const text = await c.req.text();
  if (text.trim() === '') throw new InvalidInputError(`the ${what} body is empty: a JSON object is required`);
  const json = parseJson(text);
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `  ${path.replace(/^\./, '') || '(body)'}: ${i.message}`;
    });
    throw new InvalidInputError(`invalid ${what}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * Levels of a namespace from a path or query parameter (already %-decoded): separated by the
 * unit separator 0x1F, the spec's default. "." is accepted too: levels cannot contain it.
 * @throws InvalidInputError for an invalid namespace.
 */
export function decodeNamespace(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') throw new InvalidInputError('the namespace is empty');
  return validateNamespace(raw.replaceAll('\u001f', '.').split('.'));
}

/** One page of a sorted listing, when the client asked for pages. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/**
 * Paginate per the spec's PageToken: without `pageToken` everything is returned; with it
 * (possibly empty, for the first page) at most `pageSize` items follow the token's key.
 * Tokens are opaque to clients: the base64url of the last key returned.
 * @throws InvalidInputError for a malformed token or size.
 */
export function paginate<T>(c: Context, items: T[], keyOf: (item: T) => string): Page<T> {
  const token = c.req.query('pageToken');
  const sizeText = c.req.query('pageSize');
  let size: number | undefined;
  if (sizeText !== undefined) {
    size = Number(sizeText);
    if (!Number.isInteger(size) || size < 1)
      throw new InvalidInputError(`pageSize ${JSON.stringify(sizeText)} must be a positive integer`);
  }
  const sorted = items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (token === undefined) return { items: sorted.map((s) => s.item), next: null };
  let after = '';
  if (token !== '') {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!after || Buffer.from(after, 'utf8').toString('base64url') !== token)
      throw new InvalidInputError(`pageToken ${JSON.stringify(token)} is not a token this server issued`);
  }
  const rest = sorted.filter((s) => s.key > after);
  const page = size === undefined ? rest : rest.slice(0, size);
  const last = page.at(-1);
  const next = page.length < rest.length && last ? Buffer.from(last.key, 'utf8').toString('base64url') : null;
  return { items: page.map((s) => s.item), next };
}
