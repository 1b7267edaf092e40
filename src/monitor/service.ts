/**
 * Monitor rules at work: `tick()` reloads `monitors/*.yaml`, claims the rules that are due
 * (once across every evaluator sharing the metastore), evaluates them in DuckDB through the
 * engine, stores ok/firing per dimension value, and delivers the alerts of transitions.
 * `sluice serve` ticks it on a timer; `sluice monitors check` evaluates on demand.
 */
import { randomUUID } from 'node:crypto';
import { type Engine, openEngine } from '../engine/index.js';
import type { Logger } from '../observe/index.js';
import { deliverQueuedAlerts } from '../orchestrator/index.js';
import type { Runtime } from '../runtime/index.js';
import { errorMessage, NotFoundError, redactText } from '../util/index.js';
import { conditionText, type Monitor } from './definition.js';
import { evaluateMonitor, type Verdict } from './evaluate.js';
import { type LoadedMonitor, loadMonitors } from './load.js';
import {
  applyVerdicts,
  claimDue,
  MONITOR_ALERT_QUEUE,
  type MonitorAlertJob,
  readSchedule,
  readStates,
  recordCheck,
  type StoredState,
  type Transition,
} from './state.js';

/** Options of a monitor service. */
export interface MonitorServiceOptions {
  /** The engine queries run on (default: one the service opens, and closes on stop). */
  engine?: Engine;
  /** How often `start()` ticks (default 15 s). */
  intervalMs?: number;
  /** Clock in epoch ms. */
  now?: () => number;
}

/** A rule as `GET /api/v1/monitors` and `sluice monitors list` show it (no target URLs). */
export interface MonitorOverview extends Omit<Monitor, 'alerts' | 'condition'> {
  file: string;
  condition: string;
  alerts: { on: string[]; kind: 'webhook' | 'slack' | 'email' }[];
  /** firing when any value fires; unknown before the first check. */
  state: 'ok' | 'firing' | 'unknown';
  firing: number;
  nextCheckAt: string | null;
  checkedAt: string | null;
  /** Why the last check failed (the table is missing, a column is wrong...). */
  error: string | null;
  states: (Omit<StoredState, 'since' | 'checkedAt'> & { since: string; checkedAt: string })[];
}

/** The outcome of evaluating one rule. */
export interface CheckResult {
  monitor: LoadedMonitor;
  verdicts: Verdict[];
  transitions: Transition[];
  error?: string;
}

export class MonitorService {
  readonly runtime: Runtime;
  readonly #log: Logger;
  readonly #o: MonitorServiceOptions;
  readonly #workerId = `monitor-${randomUUID()}`;
  #engine: Promise<Engine> | undefined;
  #monitors: Map<string, LoadedMonitor> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(runtime: Runtime, o: MonitorServiceOptions = {}) {
    this.runtime = runtime;
    this.#o = o;
    this.#log = runtime.log.child({ component: 'monitors' });
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** The rules as last loaded; loads them the first time. @throws ConfigError */
  async monitors(): Promise<ReadonlyMap<string, LoadedMonitor>> {
    this.#monitors ??= await loadMonitors(this.runtime.project.dir);
    return this.#monitors;
  }

  /** Load the rule files again; on error the previous rules stay (and the error is logged). */
  async reload(): Promise<ReadonlyMap<string, LoadedMonitor>> {
    try {
      this.#monitors = await loadMonitors(this.runtime.project.dir);
    } catch (err) {
      if (!this.#monitors) throw err;
      this.#log.error({ err: errorMessage(err) }, 'monitor files have errors; keeping the previous rules');
    }
    return this.#monitors;
  }

  #engineNow(): Promise<Engine> {
    if (this.#o.engine) return Promise.resolve(this.#o.engine);
    this.#engine ??= openEngine(this.runtime, { fileAccess: 'lake' });
    return this.#engine;
  }

  /** Evaluate one rule now and store its verdicts (unless `dryRun`). */
  async check(m: LoadedMonitor, o: { dryRun?: boolean } = {}): Promise<CheckResult> {
    const now = this.#now();
    let verdicts: Verdict[];
    try {
      verdicts = await evaluateMonitor(await this.#engineNow(), m.def, now);
    } catch (err) {
      const error = redactText(errorMessage(err));
      if (!o.dryRun) await recordCheck(this.runtime.meta, m.name, now, error);
      return { monitor: m, verdicts: [], transitions: [], error };
    }
    if (o.dryRun) return { monitor: m, verdicts, transitions: [] };
    const transitions = await applyVerdicts(this.runtime.meta, m, verdicts, now);
    await recordCheck(this.runtime.meta, m.name, now);
    for (const t of transitions)
      this.#log.info(
        { monitor: m.name, value: t.value, event: t.event, reason: t.verdict.reason },
        'monitor transition',
      );
    return { monitor: m, verdicts, transitions };
  }

  /** Evaluate every rule (or the one named) now, whatever its schedule. @throws NotFoundError */
  async checkNow(name?: string, o: { dryRun?: boolean } = {}): Promise<CheckResult[]> {
    const monitors = await this.reload();
    if (name !== undefined && !monitors.has(name))
      throw new NotFoundError(
        `no monitor "${name}" in monitors/`,
        monitors.size ? `known: ${[...monitors.keys()].join(', ')}` : 'add monitors/NAME.yaml',
      );
    const chosen = name === undefined ? [...monitors.values()] : [monitors.get(name) as LoadedMonitor];
    const out: CheckResult[] = [];
    for (const m of chosen) out.push(await this.check(m, o));
    return out;
  }

  /** One pass: evaluate the rules that are due (claimed once across evaluators), then deliver alerts. */
  async tick(): Promise<CheckResult[]> {
    const monitors = await this.reload();
    const due = await claimDue(this.runtime.meta, monitors.values(), this.#now());
    const out: CheckResult[] = [];
    for (const m of due) {
      const result = await this.check(m);
      if (result.error) this.#log.warn({ monitor: m.name, err: result.error }, 'monitor check failed');
      out.push(result);
    }
    await this.deliver();
    return out;
  }

  /** Deliver queued monitor alerts once; returns how many were sent. */
  async deliver(): Promise<number> {
    const monitors = this.#monitors ?? (await this.reload());
    return deliverQueuedAlerts<MonitorAlertJob>({
      meta: this.runtime.meta,
      queue: MONITOR_ALERT_QUEUE,
      async target(job) {
        const target = monitors.get(job.monitor)?.def.alerts[job.target];
        if (!target) throw new NotFoundError(`monitor ${job.monitor} has no alert #${job.target} any more`);
        return target;
      },
      describe: (job) => ({ monitor: job.monitor, value: job.message.value, event: job.message.event }),
      smtp: this.runtime.project.config.orchestrator.smtp,
      workerId: this.#workerId,
      log: this.#log,
    });
  }

  /** Every rule with its schedule and its state per dimension value (GET /api/v1/monitors). */
  async overview(): Promise<MonitorOverview[]> {
    const monitors = await this.reload();
    const out: MonitorOverview[] = [];
    for (const m of monitors.values()) {
      const { alerts, ...def } = m.def;
      const states = await readStates(this.runtime.meta, m.name);
      const schedule = await readSchedule(this.runtime.meta, m.name);
      out.push({
        ...def,
        file: m.file,
        condition: conditionText(m.def.condition),
        alerts: alerts.map((a) => ({ on: a.on, kind: a.webhook ? 'webhook' : a.slack ? 'slack' : 'email' })),
        state: states.some((s) => s.state === 'firing') ? 'firing' : states.length ? 'ok' : 'unknown',
        firing: states.filter((s) => s.state === 'firing').length,
        nextCheckAt: schedule?.dueAt.toISOString() ?? null,
        checkedAt: schedule?.checkedAt?.toISOString() ?? null,
        error: schedule?.error ?? null,
        states: states.map((s) => ({
          ...s,
          since: s.since.toISOString(),
          checkedAt: s.checkedAt.toISOString(),
        })),
      });
    }
    return out;
  }

  /** Tick now and then every intervalMs until stopped. */
  start(): this {
    const loop = () => {
      this.#busy = this.tick()
        .catch((err) => this.#log.error({ err: errorMessage(err) }, 'monitor tick failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#o.intervalMs ?? 15_000);
        });
    };
    loop();
    return this;
  }

  /** Stop ticking, wait for the running pass, and close the engine this service opened. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#busy;
    const engine = this.#engine;
    this.#engine = undefined;
    if (engine) await (await engine.catch(() => undefined))?.close();
  }
}
