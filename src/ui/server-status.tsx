import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { fetchHealth, fetchInfo, type Health, type ServerInfo } from './api';
import { usePoll } from './use-poll';

/** How the UI currently reaches the server. */
export type Connection = 'connecting' | 'connected' | 'degraded' | 'disconnected';

/** What every page knows about the server, refreshed in the background. */
export interface ServerStatus {
  connection: Connection;
  health?: Health;
  info?: ServerInfo;
  /** Why the last health check failed, when it did. */
  error?: Error;
  /** Date.now() of the last successful health check. */
  lastSeenAt?: number;
}

/** How often the header's connection indicator checks the server. */
export const HEALTH_POLL_MS = 3000;

const StatusContext = createContext<ServerStatus>({ connection: 'connecting' });

/** The server status shared by the frame and the pages. */
export function useServerStatus(): ServerStatus {
  return useContext(StatusContext);
}

/** Polls health for the whole app, and re-reads /api/v1/info whenever the server restarts. */
export function ServerStatusProvider({ children }: { children: ReactNode }) {
  const poll = usePoll(fetchHealth, HEALTH_POLL_MS);
  const [info, setInfo] = useState<ServerInfo>();
  const [lastSeenAt, setLastSeenAt] = useState<number>();
  const startedAt = poll.data?.startedAt;

  useEffect(() => {
    if (!poll.error && poll.updatedAt) setLastSeenAt(poll.updatedAt);
  }, [poll.error, poll.updatedAt]);

  // Retried on each health answer until it matches the running server's start time.
  const haveInfo = info !== undefined && info.startedAt === startedAt;
  const checkedAt = poll.updatedAt;
  useEffect(() => {
    if (!startedAt || haveInfo || checkedAt === undefined) return;
    const abort = new AbortController();
    fetchInfo(abort.signal).then(setInfo, () => undefined);
    return () => abort.abort();
  }, [startedAt, haveInfo, checkedAt]);

  const status: ServerStatus = {
    connection: connectionOf(poll.data, poll.error),
    health: poll.data,
    info: haveInfo ? info : undefined,
    error: poll.error,
    lastSeenAt,
  };
  return <StatusContext.Provider value={status}>{children}</StatusContext.Provider>;
}

function connectionOf(health: Health | undefined, error: Error | undefined): Connection {
  if (error) return 'disconnected';
  if (!health) return 'connecting';
  return health.ready ? 'connected' : 'degraded';
}
