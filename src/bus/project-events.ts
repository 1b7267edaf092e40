/**
 * Event type files of a project (`events/*.yaml`): applied at server start through the
 * same rules as the API (create, or update by the compatibility mode). `schema.schema` may
 * be written as YAML; it is stored as the JSON string Nakadi expects.
 */
import { z } from 'zod';
import { loadYamlFile } from '../config/index.js';
import type { Logger } from '../observe/index.js';
import { ConfigError, errorMessage, SluiceError } from '../util/index.js';
import type { EventTypeRegistry } from './registry.js';

const fileSchema = z.record(z.string(), z.unknown());

/**
 * Create or update the event type each file defines.
 * @throws ConfigError naming the file when a definition is invalid or its change not allowed.
 */
export async function applyEventTypeFiles(
  registry: EventTypeRegistry,
  files: string[],
  log: Logger,
): Promise<string[]> {
  const applied: string[] = [];
  for (const file of files) {
    const body = { ...(await loadYamlFile(file, fileSchema)) };
    const schema = body.schema as { schema?: unknown } | undefined;
    if (schema && typeof schema === 'object' && schema.schema && typeof schema.schema === 'object') {
      body.schema = { ...schema, schema: JSON.stringify(schema.schema) };
    }
    const name = typeof body.name === 'string' ? body.name : '';
    try {
      if (name && (await registry.find(name))) await registry.update(name, body);
      else await registry.create(body);
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      throw new ConfigError(
        file,
        undefined,
        undefined,
        `event type ${name || '(no name)'}: ${errorMessage(err)}`,
      );
    }
    applied.push(name);
  }
  if (applied.length) log.info({ eventTypes: applied }, 'event type files applied');
  return applied;
}
