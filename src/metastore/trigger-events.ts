/**
 * Trigger events: table commits, event batches and landed files announce themselves on a
 * metastore notification channel, and the orchestrator's schedulers start the pipelines
 * whose `on:` matches. Defined here, below every area that announces, so the catalog and the
 * bus need not know the orchestrator.
 */
import type { MetaStore } from './types.js';

/** Channel on which table commits, event batches and landed files announce themselves. */
export const TRIGGER_CHANNEL = 'sluice.trigger';

/** Something that happened which event-triggered pipelines may react to. */
export interface TriggerEvent {
  kind: 'table' | 'events' | 'files';
  /** Table (namespace.table), event type name, or the key of a landed file. */
  name: string;
  /** Unique per occurrence (snapshot id, batch id, object key + etag): a second delivery creates no run. */
  id: string;
}

/**
 * Announce a trigger event to every scheduler listening. Delivery is at most once per
 * listener (a scheduler that is down misses it); a repeated `id` creates no second run.
 */
export async function announceTrigger(meta: Pick<MetaStore, 'notify'>, event: TriggerEvent): Promise<void> {
  await meta.notify(TRIGGER_CHANNEL, JSON.stringify(event));
}
