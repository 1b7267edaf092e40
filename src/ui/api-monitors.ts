/** Monitor rules (monitors/*.yaml) and their states, from GET /api/v1/monitors. */
import { apiJson } from './api-runs';

export interface MonitorValueState {
  value: string;
  state: 'ok' | 'firing';
  measured: number | null;
  expected: string;
  reason: string;
  since: string;
  checkedAt: string;
}

export interface MonitorRule {
  name: string;
  file: string;
  description?: string;
  table: string;
  time: string;
  dimension?: string;
  measure: 'count' | 'sum' | 'avg';
  column?: string;
  bucket: 'hour' | 'day';
  window: number;
  schedule: string;
  severity: 'info' | 'warning' | 'critical';
  condition: string;
  alerts: { on: string[]; kind: string }[];
  state: 'ok' | 'firing' | 'unknown';
  firing: number;
  nextCheckAt: string | null;
  checkedAt: string | null;
  error: string | null;
  states: MonitorValueState[];
}

export async function fetchMonitors(signal: AbortSignal): Promise<MonitorRule[]> {
  return (await apiJson<{ monitors: MonitorRule[] }>('/monitors', signal)).monitors;
}
