import { InvalidInputError } from '../util/index.js';

/**
 * Events written as a JSON array or as one JSON object per line (NDJSON).
 * @throws InvalidInputError naming `source` when the text is neither.
 */
export function parseEventsText(text: string, source: string): unknown[] {
  const trimmed = text.trim();
  if (!trimmed) throw new InvalidInputError(`${source}: no events`);
  try {
    if (trimmed.startsWith('[')) {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed)) return parsed;
    }
    return trimmed
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
  } catch (err) {
    throw new InvalidInputError(
      `${source}: events are not valid JSON: ${(err as Error).message}`,
      'give a JSON array or one JSON object per line',
    );
  }
}
