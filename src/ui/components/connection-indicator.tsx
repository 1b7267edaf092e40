import { formatTime } from '../format';
import { type Connection, useServerStatus } from '../server-status';

const LABELS: Record<Connection, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  degraded: 'Degraded',
  disconnected: 'Disconnected',
};

/** The header's live view of the server connection, announced to screen readers on change. */
export function ConnectionIndicator() {
  const { connection, error, lastSeenAt } = useServerStatus();
  const detail =
    connection === 'disconnected'
      ? `${error?.message ?? 'server unreachable'}; retrying${lastSeenAt ? `, last answer ${formatTime(new Date(lastSeenAt).toISOString())}` : ''}`
      : connection === 'degraded'
        ? 'a backend check failed: see Overview'
        : connection === 'connected'
          ? 'the server and its backends answer'
          : 'waiting for the first answer';
  return (
    <output className={`connection connection-${connection}`} title={detail} aria-live="polite">
      <span className="connection-dot" aria-hidden="true" />
      <span>{LABELS[connection]}</span>
      <span className="visually-hidden">: {detail}</span>
    </output>
  );
}
