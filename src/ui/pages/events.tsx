import { useEffect, useState } from 'react';
import type { EventType } from '../api-events';
import { useBusHistory } from '../bus-history';
import { formatRate, formatTime } from '../format';
import { BusCharts } from './overview-platform';
import './runs.css';

interface SchemaVersion {
  version: string;
  created_at: string;
  type: string;
  schema: string;
}

/** Event types of the bus with publish rate, stored events and consumer lag, and their schemas. */
export function EventsPage() {
  const bus = useBusHistory();
  const [selected, setSelected] = useState<string>();
  const types = bus.latest?.types ?? [];
  const shown = types.find((t) => t.name === selected);

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Events</h1>
      {bus.error && (
        <p className="banner banner-bad" role="alert">
          Cannot read the event bus: {bus.error.message}
        </p>
      )}
      <section className="panel" aria-labelledby="flow-title">
        <h2 id="flow-title">Flow</h2>
        <BusCharts bus={bus} />
      </section>
      <section className="panel table-wrap" aria-labelledby="types-title">
        <h2 id="types-title" className="panel-title">
          Event types
        </h2>
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Event type</th>
              <th scope="col">Category</th>
              <th scope="col">Owner</th>
              <th scope="col">Schema</th>
              <th scope="col" className="num">
                Stored events
              </th>
              <th scope="col" className="num">
                Publish rate
              </th>
              <th scope="col" className="num">
                Consumer lag
              </th>
            </tr>
          </thead>
          <tbody>
            {types.map((t) => (
              <tr key={t.name} data-event-type={t.name} aria-selected={t.name === selected}>
                <td>
                  <button type="button" className="link-button" onClick={() => setSelected(t.name)}>
                    {t.name}
                  </button>
                </td>
                <td>{t.category}</td>
                <td>{t.owning_application}</td>
                <td>{t.schema.version ?? '—'}</td>
                <td className="num">{(bus.latest?.stored[t.name] ?? 0).toLocaleString()}</td>
                <td className="num">
                  {bus.rates[t.name] === undefined ? '—' : formatRate(bus.rates[t.name] ?? 0)}
                </td>
                <td className="num">
                  {bus.latest?.lag[t.name] === undefined
                    ? '—'
                    : (bus.latest.lag[t.name] ?? 0).toLocaleString()}
                </td>
              </tr>
            ))}
            {bus.latest && types.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No event types: add events/*.yaml to the project or POST /event-types (docs/event-bus.md).
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
      {bus.latest && bus.latest.subscriptions.length > 0 && (
        <section className="panel table-wrap" aria-labelledby="subs-title">
          <h2 id="subs-title" className="panel-title">
            Subscriptions
          </h2>
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Owner</th>
                <th scope="col">Consumer group</th>
                <th scope="col">Event types</th>
                <th scope="col" className="num">
                  Partitions
                </th>
                <th scope="col" className="num">
                  Lag
                </th>
              </tr>
            </thead>
            <tbody>
              {bus.latest.subscriptions.map((s) => (
                <tr key={s.id} data-subscription={s.id}>
                  <td>{s.owning_application}</td>
                  <td>{s.consumer_group ?? 'default'}</td>
                  <td>{s.event_types.join(', ')}</td>
                  <td className="num">{s.partitions}</td>
                  <td className="num">{s.lag.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {shown && <SchemaView type={shown} />}
    </section>
  );
}

/** The schema versions of an event type, newest first, and the selected version's JSON Schema. */
function SchemaView({ type }: { type: EventType }) {
  const [versions, setVersions] = useState<SchemaVersion[]>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState<string>();
  useEffect(() => {
    const stop = new AbortController();
    setVersions(undefined);
    setVersion(undefined);
    fetch(`/event-types/${encodeURIComponent(type.name)}/schemas?limit=100`, { signal: stop.signal })
      .then(async (res) => {
        if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
        return ((await res.json()) as { items: SchemaVersion[] }).items;
      })
      .then(setVersions, (err: Error) => {
        if (!stop.signal.aborted) setError(err.message);
      });
    return () => stop.abort();
  }, [type.name]);
  const current = versions?.find((v) => v.version === version) ?? versions?.[0];
  let pretty = current?.schema ?? type.schema.schema;
  try {
    pretty = JSON.stringify(JSON.parse(pretty), null, 2);
  } catch {
    // not JSON (an Avro schema): show as stored
  }
  return (
    <section className="panel" aria-labelledby="schema-title">
      <div className="page-head">
        <h2 id="schema-title">Schema of {type.name}</h2>
        {versions && versions.length > 0 && (
          <label className="actions">
            <span className="muted">Version</span>
            <select value={current?.version} onChange={(e) => setVersion(e.target.value)}>
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version} · {formatTime(v.created_at)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {error && <p className="tone-bad">{error}</p>}
      <pre className="logs schema">{pretty}</pre>
    </section>
  );
}
