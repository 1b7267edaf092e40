/**
 * Avro object container files (Avro 1.x spec, "Object Container Files"): header with
 * metadata and the writer schema, then blocks of records, deflate (raw RFC 1951) or null
 * codec. Records are encoded/decoded with avsc types whose `long` is a bigint, so 64-bit
 * snapshot ids survive.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type avro from 'avsc';
import { InvalidInputError } from '../../util/index.js';

const deflateRawAsync = promisify(deflateRaw);
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const RECORDS_PER_BLOCK = 4096;
/** Blocks up to this size are deflated on the calling thread (well under a millisecond). */
const INLINE_DEFLATE_BYTES = 64 * 1024;

/** Supported block codecs; Java and PyIceberg write `deflate` by default. */
export type AvroCodec = 'deflate' | 'null';

/** avsc, loaded on first use: commands that never read table metadata skip parsing it. */
let loaded: { avro: typeof avro; bigLong: avro.types.LongType } | undefined;

function avsc() {
  if (loaded) return loaded;
  const lib = createRequire(import.meta.url)('avsc') as typeof avro;
  const bigLong = lib.types.LongType.__with({
    fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
    toBuffer: (n: bigint | number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(n));
      return b;
    },
    fromJSON: (v: unknown) => BigInt(v as number),
    toJSON: (n: bigint) => Number(n),
    isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isSafeInteger(n)),
    compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
  });
  loaded = { avro: lib, bigLong };
  return loaded;
}

/** Types built lately, by schema JSON: building one costs far more than encoding a manifest. */
const types = new Map<string, avro.Type>();
const MAX_TYPES = 64;

/** An avsc type for an Avro schema (parsed JSON), reading every `long` as a bigint. */
export function avroType(schema: unknown): avro.Type {
  return typeOfText(JSON.stringify(schema));
}

/** The type of a schema's JSON text; types are immutable, so files of one schema share it. */
function typeOfText(text: string): avro.Type {
  const known = types.get(text);
  if (known) return known;
  const { avro: lib, bigLong } = avsc();
  const type = lib.Type.forSchema(JSON.parse(text) as avro.Schema, {
    typeHook: (s: unknown) =>
      s === 'long' || (typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long')
        ? bigLong
        : undefined,
  });
  types.set(text, type);
  if (types.size > MAX_TYPES) types.delete(types.keys().next().value as string);
  return type;
}

function zigzag(n: number): Buffer {
  let v = BigInt(n);
  v = v < 0n ? (-v << 1n) - 1n : v << 1n;
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return Buffer.from(bytes);
}

function lengthPrefixed(data: Buffer): Buffer[] {
  return [zigzag(data.length), data];
}

/**
 * Write a container file holding the records, with the given metadata (`avro.schema` and
 * `avro.codec` are added) and the writer schema written verbatim (field ids kept).
 */
export async function writeContainer(
  schema: unknown,
  records: readonly unknown[],
  metadata: Record<string, string>,
  codec: AvroCodec = 'deflate',
): Promise<Buffer> {
  const schemaText = JSON.stringify(schema);
  const type = typeOfText(schemaText);
  const sync = randomBytes(16);
  const meta: [string, Buffer][] = [
    ['avro.schema', Buffer.from(schemaText, 'utf8')],
    ['avro.codec', Buffer.from(codec, 'utf8')],
    ...Object.entries(metadata).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'utf8')]),
  ];
  const parts: Buffer[] = [MAGIC, zigzag(meta.length)];
  for (const [k, v] of meta) parts.push(...lengthPrefixed(Buffer.from(k, 'utf8')), ...lengthPrefixed(v));
  parts.push(zigzag(0), sync);
  for (let i = 0; i < records.length; i += RECORDS_PER_BLOCK) {
    const chunk = records.slice(i, i + RECORDS_PER_BLOCK);
    const raw = Buffer.concat(
      chunk.map((r) => {
        const errors: string[] = [];
        if (!type.isValid(r, { errorHook: (path: string[]) => errors.push(path.join('.')) })) {
          throw new InvalidInputError(
            `cannot encode Avro record: invalid value at ${errors.join(', ') || '(record)'}`,
          );
        }
        return type.toBuffer(r);
      }),
    );
    // Small blocks (most manifests) compress faster inline than through the thread pool.
    const data =
      codec !== 'deflate'
        ? raw
        : raw.length <= INLINE_DEFLATE_BYTES
          ? deflateRawSync(raw)
          : await deflateRawAsync(raw);
    parts.push(zigzag(chunk.length), ...lengthPrefixed(data), sync);
  }
  return Buffer.concat(parts);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  long(): number {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new InvalidInputError('truncated Avro file');
      const b = this.buf[this.pos++] as number;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return Number((v >> 1n) ^ -(v & 1n));
  }

  bytes(): Buffer {
    const n = this.long();
    if (n < 0 || this.pos + n > this.buf.length) throw new InvalidInputError('truncated Avro file');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** A decoded container file: writer schema (parsed JSON), metadata, and records. */
export interface ContainerContents {
  schema: unknown;
  metadata: Record<string, string>;
  records: unknown[];
}

/**
 * Read a container file, decoding records with its own writer schema.
 * @throws InvalidInputError for files that are not Avro or use an unsupported codec.
 */
export function readContainer(buf: Buffer): ContainerContents {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC))
    throw new InvalidInputError('not an Avro object container file');
  const r = new Reader(buf);
  r.pos = 4;
  const metadata: Record<string, string> = {};
  for (let count = r.long(); count !== 0; count = r.long()) {
    if (count < 0) {
      r.long();
      count = -count;
    }
    for (let i = 0; i < count; i++) {
      const key = r.bytes().toString('utf8');
      metadata[key] = r.bytes().toString('utf8');
    }
  }
  const sync = buf.subarray(r.pos, r.pos + 16);
  r.pos += 16;
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') {
    throw new InvalidInputError(
      `unsupported Avro codec "${codec}"`,
      'only the deflate and null codecs are supported',
    );
  }
  const schemaText = metadata['avro.schema'] ?? 'null';
  const schema = JSON.parse(schemaText) as unknown;
  const type = typeOfText(schemaText);
  const records: unknown[] = [];
  while (r.pos < buf.length) {
    const count = r.long();
    const raw = r.bytes();
    const data = codec === 'deflate' ? inflateRawSync(raw) : raw;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const res = type.decode(data, offset);
      if (res.offset < 0) throw new InvalidInputError('corrupt Avro block');
      records.push(res.value);
      offset = res.offset;
    }
    if (!buf.subarray(r.pos, r.pos + 16).equals(sync))
      throw new InvalidInputError('corrupt Avro file: sync marker mismatch');
    r.pos += 16;
  }
  delete metadata['avro.schema'];
  delete metadata['avro.codec'];
  return { schema, metadata, records };
}
