/** JSON request bodies checked against a zod schema, with errors naming the field. */
import type { z } from 'zod';
import { InvalidInputError } from '../../util/index.js';

/** @throws InvalidInputError for a body that is not JSON or does not match `schema` (names the path) */
export async function parseJsonBody<T extends z.ZodType>(req: Request, schema: T): Promise<z.output<T>> {
  const text = await req.text();
  let value: unknown = {};
  if (text.trim()) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidInputError('the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `invalid request body: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
