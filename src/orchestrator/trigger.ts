import { announceTrigger, type MetaStore, type TriggerEvent } from '../metastore/index.js';

/**
 * Announce a table commit, an event batch or a landed file to the schedulers, which start
 * the pipelines whose `on:` matches. Safe to call from any process; a repeated `id`
 * creates no second run.
 */
export function publishTriggerEvent(meta: MetaStore, event: TriggerEvent): Promise<void> {
  return announceTrigger(meta, event);
}
