import type { MetaStore } from '../metastore/index.js';
import { TRIGGER_CHANNEL, type TriggerEvent } from './scheduler.js';

/**
 * Announce a table commit, an event batch or a landed file to the schedulers, which start
 * the pipelines whose `on:` matches. Safe to call from any process; a repeated `id`
 * creates no second run.
 */
export async function publishTriggerEvent(meta: MetaStore, event: TriggerEvent): Promise<void> {
  await meta.notify(TRIGGER_CHANNEL, JSON.stringify(event));
}
