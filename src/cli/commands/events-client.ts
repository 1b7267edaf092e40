import { loadProject } from '../../config/index.js';
import { SluiceError } from '../../util/index.js';
import { projectDirOf } from '../context.js';
import type { GlobalOptions } from '../main.js';

/** A minimal client of the Nakadi API of a running server. */
export interface BusClient {
  readonly server: string;
  request(
    method: string,
    path: string,
    o?: { body?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The server URL: --server, else server.host/http of the project, else http://127.0.0.1:8080. */
async function serverOf(globals: GlobalOptions, server?: string): Promise<string> {
  if (server) return server.replace(/\/+$/, '');
  try {
    const project = await loadProject(projectDirOf(globals), {
      environment: globals.env ?? process.env.SLUICE_ENV,
    });
    const host = project.config.server.host === '0.0.0.0' ? '127.0.0.1' : project.config.server.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${project.config.server.http}`;
  } catch {
    return 'http://127.0.0.1:8080';
  }
}

/** Open a client from the command's options. */
export async function openBusClient(
  globals: GlobalOptions,
  o: { server?: string; token?: string },
): Promise<BusClient> {
  const server = await serverOf(globals, o.server);
  const token = o.token ?? process.env.SLUICE_BUS_TOKEN;
  const request = async (
    method: string,
    path: string,
    r: { body?: string; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...r.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (r.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${server}${path}`, { method, headers, body: r.body });
    } catch (err) {
      throw new SluiceError(
        'backend_unavailable',
        `cannot reach the server at ${server}: ${(err as Error).message}`,
        'start it with "sluice serve" or pass --server URL',
        { cause: err },
      );
    }
  };
  return {
    server,
    request,
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await request(method, path, {
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw await problemError(res);
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

/** A SluiceError from an error response (Problem JSON detail when there is one). */
export async function problemError(res: Response): Promise<SluiceError> {
  const text = await res.text();
  let detail = text.slice(0, 500);
  try {
    const p = JSON.parse(text) as { detail?: string; title?: string };
    detail = p.detail ?? p.title ?? detail;
  } catch {}
  const code =
    res.status === 401
      ? 'unauthorized'
      : res.status === 403
        ? 'forbidden'
        : res.status === 404
          ? 'not_found'
          : 'invalid_input';
  const hint = res.status === 401 ? 'pass --token or set SLUICE_BUS_TOKEN' : undefined;
  return new SluiceError(code, `${res.status}: ${detail}`, hint);
}
