/** The event bus of a running server: its log opened, project event types applied, sinks started. */
import { AuthStore, createAuthenticator, loginAuditor } from '../auth/index.js';
import type { Runtime } from '../runtime/index.js';
import { createEventBus, type EventBus } from './bus.js';
import { sinkEventsToTable } from './lake-sink.js';
import { openEventLog } from './log/index.js';
import { applyEventTypeFiles } from './project-events.js';
import { sleep } from './sleep.js';

/** A bus bound to a runtime, with everything it opened. */
export interface BusService {
  bus: EventBus;
  close(): Promise<void>;
}

/**
 * Open the project's event log and bus, then apply its `events/*.yaml` files.
 * @throws ConfigError for an invalid event type file; whatever opening the log throws.
 */
export async function openBusService(runtime: Runtime): Promise<BusService> {
  const { project } = runtime;
  const eventLog = await openEventLog(project.config.bus, { dataDir: project.dataDir, log: runtime.log });
  const auth = project.config.auth;
  const store = new AuthStore(runtime.meta);
  const authn = createAuthenticator(store, { required: auth.required, jwt: auth.jwt });
  const audited = loginAuditor(runtime.meta, {
    onError: (err) => runtime.log.warn({ err }, 'writing an audit row failed'),
  });
  const bus = createEventBus({
    meta: runtime.meta,
    eventLog,
    config: project.config.bus,
    log: runtime.log,
    platform: {
      async authenticate(authorization, remote) {
        const principal = await authn(authorization, remote);
        audited(principal, 'bus', remote);
        return principal;
      },
      grants: async () => (await store.snapshot()).grants,
      required: auth.required,
      jwt: auth.jwt !== undefined,
    },
  });
  try {
    await applyEventTypeFiles(bus.registry, project.files.events, bus.log);
  } catch (err) {
    await eventLog.close();
    throw err;
  }
  const sinks = startSinks(runtime, bus);
  return {
    bus,
    async close() {
      bus.shutdown();
      await sinks;
      await eventLog.close();
    },
  };
}

/** Run the `bus.sinks` of the configuration until the bus shuts down; a failed sink restarts after a pause. */
function startSinks(runtime: Runtime, bus: EventBus): Promise<unknown> {
  return Promise.all(
    bus.config.sinks.map(async (sink) => {
      const log = bus.log.child({ sink: sink.eventType });
      while (!bus.closing.aborted) {
        try {
          await sinkEventsToTable(runtime, bus.eventLog, { ...sink, signal: bus.closing });
        } catch (err) {
          if (bus.closing.aborted) break;
          log.error({ err }, 'lake sink failed; restarting in 10 s');
          await sleep(10_000, bus.closing);
        }
      }
    }),
  );
}
