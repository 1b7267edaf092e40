export { createLogger, type Logger, type LoggerOptions, type LogLevel, silentLogger } from './log.js';
