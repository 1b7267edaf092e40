/**
 * A request to a test server as one of its callers: `who` names a token in `tokens` (or is
 * the bearer text itself); no `who` sends no credentials.
 */
export function callAs(base: () => string, tokens: Record<string, string>) {
  return (method: string, path: string, who?: string, body?: unknown): Promise<Response> =>
    fetch(`${base()}${path}`, {
      method,
      headers: {
        ...(who && (tokens[who] ?? who) ? { authorization: `Bearer ${tokens[who] ?? who}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
}
