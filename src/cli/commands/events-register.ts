import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

/** Register `sluice events ...` (a client of a running server's Nakadi API). */
export function registerEventsCommands(program: Command, lazy: Lazy): void {
  const action = lazy(() => import('./events.js'));
  const events = program
    .command('events')
    .description(
      'event bus: event types, publishing, tailing, subscriptions and lag (against a running server)',
    )
    .option('--server <url>', 'server URL (default: http://HOST:PORT from server in sluice.yaml)')
    .option('--token <token>', 'bearer token (default: $SLUICE_BUS_TOKEN)');
  events
    .command('types')
    .description('list event types, or show one with its schema versions')
    .argument('[name]', 'event type name')
    .action(action);
  events
    .command('publish')
    .description('publish events: a JSON array or one JSON object per line, from --data, --file or stdin')
    .argument('<name>', 'event type name')
    .option('--data <json>', 'the events as JSON text')
    .option('--file <path>', 'a file of events (JSON array or NDJSON)')
    .option('--flow-id <id>', 'X-Flow-Id of the request')
    .action(action);
  events
    .command('tail')
    .description('print events as they arrive (one JSON object per line)')
    .argument('<name>', 'event type name')
    .option('--from <where>', 'begin (oldest event) or end (new events only)', 'end')
    .option('--limit <n>', 'stop after this many events')
    .option('--timeout <seconds>', 'stop after this many seconds')
    .action(action);
  events
    .command('subscriptions')
    .description('list subscriptions')
    .option('--owning-application <app>', 'only subscriptions of this application')
    .option('--event-type <name>', 'only subscriptions reading this event type')
    .action(action);
  events
    .command('lag')
    .description('unconsumed events per partition of a subscription')
    .argument('<subscription>', 'subscription id')
    .action(action);
}
