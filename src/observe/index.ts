export { createLogger, type Logger, type LoggerOptions, type LogLevel, silentLogger } from './log.js';
export { createMetrics, type Metrics } from './metrics.js';
