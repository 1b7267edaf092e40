/**
 * Monitor rules (`monitors/*.yaml`): a measure per dimension value over time, checked on a
 * schedule in DuckDB, with ok/firing state in the metastore and alerts on transitions.
 */
export { conditionText, type Monitor, monitorSchema, specOf } from './definition.js';
export { evaluateMonitor, type MonitorState, type Verdict } from './evaluate.js';
export { type LoadedMonitor, loadMonitors, MONITORS_DIR } from './load.js';
export {
  type CheckResult,
  type MonitorOverview,
  MonitorService,
  type MonitorServiceOptions,
} from './service.js';
export { ALL, BASELINE, type Bucket, type MonitorSpec, monitorSql } from './sql.js';
export {
  MONITOR_ALERT_QUEUE,
  MONITOR_RESULTS_TABLE,
  type MonitorAlertMessage,
  type MonitorResultRow,
  readSchedule,
  readStates,
  type ScheduleInfo,
  type StoredState,
} from './state.js';
