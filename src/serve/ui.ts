import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, MiddlewareHandler } from 'hono';

/** Where `npm run build` writes the web UI (dist/src/serve → dist/ui). */
export const DEFAULT_UI_ROOT = fileURLToPath(new URL('../../ui/', import.meta.url));

/** Path prefixes owned by other HTTP surfaces: never answered with the UI. */
export const NON_UI_PREFIXES = ['/api', '/iceberg', '/metrics', '/event-types', '/subscriptions'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Vite names files under assets/ by content hash, so they never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

export interface ServeUiOptions {
  /** Directory holding the built UI (index.html, assets/). */
  root?: string;
}

/**
 * Serve the built web UI: files from `root`, and index.html for any other GET outside
 * the API prefixes so client-side routes survive a reload. Mount it after the API routes.
 */
export function serveUi(o: ServeUiOptions = {}): MiddlewareHandler {
  const root = o.root ?? DEFAULT_UI_ROOT;
  let realRoot: Promise<string | undefined> | undefined;
  const resolveRoot = () => {
    realRoot ??= realpath(root).catch(() => undefined);
    return realRoot;
  };

  return async (c, next) => {
    const path = rawPath(c.req.url);
    if (NON_UI_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) return next();
    const base = await resolveRoot();
    if (!base) {
      realRoot = undefined; // a later build may create it: look again next time
      return notBuilt(c, root);
    }

    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return c.text('malformed path', 400);
    }
    if (decoded.includes('\0')) return c.text('malformed path', 400);

    const file = await fileInside(base, decoded);
    if (file === 'outside') return c.text('not found', 404);
    if (file) return sendFile(c, file, decoded.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
    if (looksLikeAsset(decoded)) return c.text('not found', 404);

    const index = await fileInside(base, '/index.html');
    if (typeof index !== 'string') return notBuilt(c, root);
    return sendFile(c, index, 'no-cache');
  };
}

/** The path as sent (still percent-encoded), so encoded slashes cannot hide a `..`. */
function rawPath(url: string): string {
  return new URL(url).pathname;
}

/** The regular file `path` names inside `base`, undefined if none, 'outside' if it escapes. */
async function fileInside(base: string, path: string): Promise<string | undefined | 'outside'> {
  const full = join(base, path);
  if (!isInside(base, full)) return 'outside';
  if (path.split('/').some((seg) => seg.startsWith('.') && seg.length > 0)) return undefined;
  try {
    const real = await realpath(full);
    if (!isInside(base, real)) return 'outside';
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

function isInside(base: string, full: string): boolean {
  const rel = relative(base, full);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Missing files under assets/ or with a static extension are 404s, not the app shell. */
function looksLikeAsset(path: string): boolean {
  return path.startsWith('/assets/') || extname(path).toLowerCase() in CONTENT_TYPES;
}

async function sendFile(c: Context, file: string, cacheControl: string): Promise<Response> {
  const body = await readFile(file);
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  return c.body(body, 200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cacheControl });
}

function notBuilt(c: Context, root: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sluice: web UI not built</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>The Sluice web UI is not built</h1>
<p>No built UI was found in <code>${escapeHtml(root)}</code>. Run <code>npm run build</code> in the Sluice
package (<code>npm install</code> runs it) and reload this page.</p>
<p>The HTTP API is available under <a href="/api/v1/health"><code>/api/v1</code></a>.</p></body></html>`;
  return c.html(html, 500, { 'cache-control': 'no-store' });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
