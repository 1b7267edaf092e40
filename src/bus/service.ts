/** The event bus of a running server: its log opened, project event types applied, sinks started. */
import type { Runtime } from '../runtime/index.js';
import { createEventBus, type EventBus } from './bus.js';
import { openEventLog } from './log/index.js';
import { applyEventTypeFiles } from './project-events.js';

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
  const bus = createEventBus({ meta: runtime.meta, eventLog, config: project.config.bus, log: runtime.log });
  try {
    await applyEventTypeFiles(bus.registry, project.files.events, bus.log);
  } catch (err) {
    await eventLog.close();
    throw err;
  }
  return {
    bus,
    async close() {
      bus.shutdown();
      await eventLog.close();
    },
  };
}
