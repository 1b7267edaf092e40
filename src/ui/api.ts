/** One backend as `GET /api/v1/health` reports it. */
export interface BackendHealth {
  name: string;
  url: string;
  ok: boolean;
  detail: string;
}

/** Body of `GET /api/v1/health` (200 when ready, 503 when a backend failed). */
export interface Health {
  status: 'ok' | 'degraded';
  ready: boolean;
  startedAt: string;
  project: string;
  backends: BackendHealth[];
}

/** Body of `GET /api/v1/info`. */
export interface ServerInfo {
  project: string;
  version: string;
  node: string;
  startedAt: string;
  now: string;
  uptimeSeconds: number;
}

/** A response the UI did not expect, with the server's error message when it sent one. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request(path: string, signal: AbortSignal, accept: readonly number[]): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { signal, headers: { accept: 'application/json, text/plain' } });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new Error('cannot reach the server', { cause: err });
  }
  if (accept.includes(res.status)) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  throw new HttpError(res.status, `${path}: ${message}`);
}

/** Readiness and backend checks; a degraded (503) answer is data, not an error. */
export async function fetchHealth(signal: AbortSignal): Promise<Health> {
  return (await request('/api/v1/health', signal, [200, 503])).json() as Promise<Health>;
}

/** Project name, version and start time of the server. */
export async function fetchInfo(signal: AbortSignal): Promise<ServerInfo> {
  return (await request('/api/v1/info', signal, [200])).json() as Promise<ServerInfo>;
}

/** The Prometheus text of `GET /metrics`. */
export async function fetchMetrics(signal: AbortSignal): Promise<string> {
  return (await request('/metrics', signal, [200])).text();
}
