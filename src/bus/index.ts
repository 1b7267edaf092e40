// The Nakadi-compatible event bus: registry, publishing, streaming, subscriptions, lake sink.
export { createBusApp } from './app.js';
export { SCOPES, type Subject } from './auth.js';
export { createEventBus, DEFAULT_RETENTION_MS, type EventBus } from './bus.js';
export { formatOffset } from './cursors.js';
export { parseEventsText } from './events-text.js';
export { type SinkOptions, type SinkResult, sinkEventsToTable } from './lake-sink.js';
export { CURSORS_PROPERTY, defaultSinkTable } from './lake-table.js';
export type { EventLog, LogRecord, PartitionBounds, TopicConfig } from './log/types.js';
export { problemOf } from './problem.js';
export { applyEventTypeFiles } from './project-events.js';
export { type PublishTaskSpec, publishTaskKind, publishTaskSchema } from './publish-task.js';
export { type BusService, openBusService } from './service.js';
export type * from './types.js';
