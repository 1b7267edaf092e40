import { z } from 'zod';
import { sluiceConfigSchema } from './schema.js';
import { describedAs, unwrapSchema } from './schema-walk.js';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** A markdown reference of sluice.yaml (keys, types, defaults, descriptions) built from the schema. */
export function configDocs(): string {
  const rows: Row[] = [];
  collect(sluiceConfigSchema, '', rows);
  const table = rows.map(
    (r) =>
      `| \`${r.key}\` | ${cell(r.type)} | ${r.default ? `\`${cell(r.default)}\`` : ''} | ${cell(r.description)} |`,
  );
  return [
    '# sluice.yaml reference',
    '',
    `${describedAs(sluiceConfigSchema) ?? ''} Every key is optional (a key written without a value takes its default); unknown keys are errors.`,
    '',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
    'String values may read environment variables: `${VAR}`, or `${VAR:-default}` when unset or empty;',
    'write `$${` for a literal `${`. Relative `file://`, `sqlite://` and file paths resolve against the',
    'project directory. An environment (`--env NAME` or `SLUICE_ENV=NAME`) is deep-merged over the base',
    'configuration before it is validated.',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...table,
    '',
  ].join('\n');
}

function collect(schema: z.ZodType, prefix: string, rows: Row[]): void {
  const object = unwrapSchema(schema);
  if (!(object instanceof z.ZodObject)) return;
  for (const [key, field] of Object.entries(object.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const inner = unwrapSchema(field);
    rows.push({
      key: path,
      type: typeOf(field),
      default: defaultOf(field),
      description: describedAs(field) ?? '',
    });
    if (inner instanceof z.ZodObject) collect(inner, path, rows);
    else if (inner instanceof z.ZodRecord) collectRecord(inner, path, rows);
  }
}

function collectRecord(record: z.ZodRecord, path: string, rows: Row[]): void {
  const value = unwrapSchema(record.valueType as z.ZodType);
  if (!(value instanceof z.ZodObject)) return;
  for (const [key, field] of Object.entries(value.shape as Record<string, z.ZodType>)) {
    rows.push({
      key: `${path}.<name>.${key}`,
      type: typeOf(field),
      default: '',
      description: `${describedAs(field) ?? ''} Any keys of \`${key}\`, overriding the base.`.trim(),
    });
  }
}

function defaultOf(field: z.ZodType): string {
  let s: z.ZodType | undefined = field;
  for (let i = 0; s && i < 20; i++) {
    if (s instanceof z.ZodPrefault) return '';
    if (s instanceof z.ZodDefault) {
      const value: unknown = s._zod.def.defaultValue;
      return typeof value === 'string' ? value : JSON.stringify(value);
    }
    s = (s._zod.def as { innerType?: z.ZodType }).innerType;
  }
  return '';
}

function typeOf(field: z.ZodType): string {
  const s = unwrapSchema(field);
  if (s instanceof z.ZodObject) return 'mapping';
  if (s instanceof z.ZodRecord) return `mapping of name → ${typeOf(s.valueType as z.ZodType)}`;
  if (s instanceof z.ZodArray) return `list of ${typeOf(s.element as z.ZodType)}`;
  if (s instanceof z.ZodEnum) return (s.options as unknown[]).map((o) => JSON.stringify(o)).join(' | ');
  if (s instanceof z.ZodLiteral)
    return [...(s.values as Set<unknown>)].map((v) => JSON.stringify(v)).join(' | ');
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).map(typeOf).join(' or ');
  if (s instanceof z.ZodNumber) return s.isInt ? 'integer' : 'number';
  const def = s._zod.def as { type: string; format?: string };
  if (def.type === 'string' && def.format === 'url') return 'URL';
  return def.type;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
