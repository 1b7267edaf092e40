/** The options of the Nakadi event bus API in the `bus` section of sluice.yaml. */
import { z } from 'zod';
import { intIn, size, text } from './fields.js';

/** One subject attribute of a Nakadi authorization list: `{ data_type: service, value: order-api }`. */
const busAttributeSchema = z.strictObject({
  data_type: text().describe('Attribute type ("service", "user", "team", or "*" for everyone).'),
  value: text().describe('Attribute value ("*" for everyone).'),
});

const BUS_SCOPES = [
  'nakadi.event_type.write',
  'nakadi.event_stream.write',
  'nakadi.event_stream.read',
  'nakadi.config.write',
] as const;

/** The `bus.auth` section: who may call the Nakadi API. */
export const busAuthSchema = z
  .strictObject({
    anonymous: z
      .enum(['never', 'loopback', 'always'])
      .default('loopback')
      .describe(
        'Requests without a token: "never" (401), "loopback" (allowed from this machine only) or "always"; anonymous callers have every scope.',
      ),
    tokens: z
      .array(
        z.strictObject({
          token: z
            .string()
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
            .min(16, { error: 'expected a token of at least 16 characters, e.g. "${BUS_TOKEN}"' }),
          subject: text().describe('Who holds the token (matched against authorization lists).'),
          type: text().default('service').describe('Attribute type of the subject ("service", "user", ...).'),
          scopes: z.array(z.enum(BUS_SCOPES)).default([]).describe('Scopes the token grants.'),
        }),
      )
      .default([])
      .describe('Static bearer tokens with their subject and scopes.'),
    jwks: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of a JWKS document' }),
        issuer: text().optional().describe('Required `iss` claim.'),
        audience: text().optional().describe('Required `aud` claim.'),
        scopeClaim: text()
          .default('scope')
          .describe('Claim holding the scopes (a space-separated string or a list).'),
        subjectClaim: text().default('sub').describe('Claim naming the subject.'),
        subjectType: text().default('user').describe('Attribute type of JWT subjects.'),
      })
      .optional()
      .describe('Verify JWT bearer tokens with the keys of a JWKS URL.'),
    admins: z
      .array(busAttributeSchema)
      .default([])
      .describe('Subjects that pass every per-event-type and per-subscription authorization check.'),
  })
  .describe('Authentication and authorization of the event bus API.');

/** One `bus.sinks` entry: an event type continuously written into a lake table. */
export const busSinkSchema = z.strictObject({
  eventType: text().describe('Event type to read.'),
  table: text().optional().describe('Target table (default events.<event_type>).'),
  latenessMs: intIn(0, 86_400_000)
    .default(60_000)
    .describe('How long to hold events back to order late arrivals by occurred_at, in milliseconds.'),
  mode: z
    .enum(['append', 'upsert'])
    .default('append')
    .describe(
      'append: one row per event (deduplicated by eid); upsert: apply data_op C/U/D/S of data events.',
    ),
  key: z.array(text()).optional().describe('Key fields of `data` for upsert mode.'),
});

/** Fields the event bus API adds to the `bus` section. */
export const busApiFields = {
  defaultPartitions: intIn(1, 1024)
    .default(1)
    .describe('Partitions of an event type without a default_statistic.'),
  maxPartitions: intIn(1, 1024).default(64).describe('Most partitions one event type may have.'),
  maxBatchBytes: size
    .default(50 * 1024 ** 2)
    .describe('Largest publishing request body (bigger requests get 413).'),
  maxEventBytes: size.default(1024 ** 2).describe('Largest single event (bigger events fail validation).'),
  auth: busAuthSchema.prefault({}),
  sinks: z.array(busSinkSchema).default([]).describe('Event types written continuously into lake tables.'),
};
