/**
 * Alerts on failure, retry, success and SLA miss: a generic JSON webhook, a Slack
 * incoming webhook, or e-mail over SMTP. An alert is a job on its own queue, enqueued in
 * the transaction that changed the state, and delivered by workers: a slow or failing
 * receiver never blocks or fails a run; failed deliveries are logged and retried with
 * backoff. Jobs name the alert target by pipeline version and index, so webhook URLs
 * (often secrets from `${VAR}`) are never stored.
 */
import type { OrchestratorConfig } from '../config/index.js';
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { BackendError, errorMessage, redactText } from '../util/index.js';
import type { AlertTarget } from './definition.js';
import type { RunInfo } from './state.js';
import type { VersionCache } from './versions.js';

/** The queue alerts wait on for delivery. */
export const ALERT_QUEUE = 'sluice.alerts';
/** Deliveries tried per alert before it is left dead in its queue. */
export const MAX_DELIVERY_ATTEMPTS = 8;
const SEND_TIMEOUT_MS = 10_000;

export type AlertEvent = 'failure' | 'retry' | 'success' | 'sla_miss';

/** What an alert says; the JSON body of a webhook alert. */
export interface AlertMessage {
  event: AlertEvent;
  pipeline: string;
  runId: string;
  runState: string;
  logicalDate: string;
  taskId?: string;
  attempt?: number;
  error?: string;
  at: string;
  text: string;
}

interface AlertJob {
  pipeline: string;
  hash: string;
  target: number;
  message: AlertMessage;
}

/** Enqueue one alert per target listening for `event`, inside the caller's transaction. */
export async function queueAlerts(
  meta: MetaStore,
  tx: SqlRunner,
  targets: readonly AlertTarget[],
  o: { event: AlertEvent; run: RunInfo; taskId?: string; attempt?: number; error?: string },
): Promise<void> {
  const message = alertMessage(o);
  for (const [i, target] of targets.entries()) {
    if (!target.on.includes(o.event)) continue;
    const job: AlertJob = { pipeline: o.run.pipeline, hash: o.run.versionHash, target: i, message };
    await meta.enqueue(ALERT_QUEUE, job, { tx, maxAttempts: MAX_DELIVERY_ATTEMPTS });
  }
}

function alertMessage(o: {
  event: AlertEvent;
  run: RunInfo;
  taskId?: string;
  attempt?: number;
  error?: string;
}): AlertMessage {
  const ds = o.run.dataIntervalStart.toISOString().slice(0, 10);
  const what = o.taskId ? `task ${o.taskId} of ${o.run.pipeline}` : `pipeline ${o.run.pipeline}`;
  const verb = {
    failure: 'failed',
    retry: `failed attempt ${o.attempt ?? '?'} and will be retried`,
    success: 'succeeded',
    sla_miss: 'missed its SLA',
  }[o.event];
  const error = o.error ? redactText(o.error).slice(0, 2000) : undefined;
  return {
    event: o.event,
    pipeline: o.run.pipeline,
    runId: o.run.runId,
    runState: o.run.state,
    logicalDate: o.run.dataIntervalStart.toISOString(),
    taskId: o.taskId,
    attempt: o.attempt,
    error,
    at: new Date().toISOString(),
    text: `Sluice: ${what} ${verb} (run ${o.run.runId}, ${ds})${error ? `: ${error}` : ''}`,
  };
}

/**
 * Send one alert: the message as the JSON body of a webhook, its `text` to Slack and as the
 * subject of an e-mail. @throws when the receiver refuses it or cannot be reached.
 */
export async function sendAlert(
  target: Pick<AlertTarget, 'webhook' | 'slack' | 'email'>,
  message: { text: string },
  smtp: OrchestratorConfig['smtp'],
  signal?: AbortSignal,
): Promise<void> {
  const timeout = AbortSignal.timeout(SEND_TIMEOUT_MS);
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  if (target.webhook || target.slack) {
    const url = (target.webhook ?? target.slack) as string;
    const body = target.slack ? { text: message.text } : message;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: sig,
    });
    await res.body?.cancel();
    if (!res.ok) throw new BackendError(`alert receiver answered HTTP ${res.status}`);
    return;
  }
  if (!smtp) {
    throw new BackendError(
      'an email alert needs orchestrator.smtp in sluice.yaml',
      'set orchestrator.smtp.host and from',
    );
  }
  const nodemailer = (await import('nodemailer')).default;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({
      from: smtp.from,
      to: target.email,
      subject: message.text.slice(0, 150),
      text: `${message.text}\n\n${JSON.stringify(message, null, 2)}\n`,
    });
  } finally {
    transport.close();
  }
}

/** Claim and deliver due alerts once; failures are retried with backoff. Returns how many were sent. */
export function deliverAlerts(o: {
  meta: MetaStore;
  versions: VersionCache;
  smtp: OrchestratorConfig['smtp'];
  workerId: string;
  log: Logger;
  signal?: AbortSignal;
}): Promise<number> {
  return deliverQueuedAlerts<AlertJob>({
    ...o,
    queue: ALERT_QUEUE,
    async target(alert) {
      const version = await o.versions.get(alert.pipeline, alert.hash);
      const target = version.def.alerts[alert.target];
      if (!target) throw new BackendError(`pipeline ${alert.pipeline} has no alert #${alert.target}`);
      return target;
    },
    describe: (alert) => ({ pipeline: alert.pipeline, event: alert.message.event }),
  });
}

/**
 * Claim due jobs of an alert queue and send each to the target `target` finds for it;
 * a failed delivery is logged and retried with backoff. Returns how many were sent.
 */
export async function deliverQueuedAlerts<J extends { message: { text: string } }>(o: {
  meta: MetaStore;
  queue: string;
  target: (job: J) => Promise<Pick<AlertTarget, 'webhook' | 'slack' | 'email'>>;
  describe: (job: J) => Record<string, unknown>;
  smtp: OrchestratorConfig['smtp'];
  workerId: string;
  log: Logger;
  signal?: AbortSignal;
}): Promise<number> {
  const jobs = await o.meta.claim(o.queue, { workerId: o.workerId, leaseMs: 60_000, limit: 20 });
  let sent = 0;
  await Promise.all(
    jobs.map(async (job) => {
      const alert = job.payload as J;
      try {
        await sendAlert(await o.target(alert), alert.message, o.smtp, o.signal);
        await o.meta.complete(job.id, o.workerId);
        sent += 1;
      } catch (err) {
        const delayMs = Math.min(2 ** job.attempts * 1000, 300_000);
        o.log.warn(
          { err: redactText(errorMessage(err)), ...o.describe(alert), attempt: job.attempts },
          'alert delivery failed; will retry',
        );
        await o.meta.fail(job.id, o.workerId, {
          retryAt: new Date(Date.now() + delayMs),
          error: redactText(errorMessage(err)),
        });
      }
    }),
  );
  return sent;
}
