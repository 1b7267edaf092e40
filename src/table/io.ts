/**
 * Table files in the object store: URIs ↔ store keys, reading manifest lists and manifests
 * (decoded once per store and cached: they are immutable), writing new manifests and manifest lists.
 */
import { randomUUID } from 'node:crypto';
import { keyForLocation, locationForKey, type ObjectStore } from '../storage/index.js';
import { decodeManifest, encodeManifest } from './avro/manifest.js';
import { decodeManifestList, encodeManifestList } from './avro/manifest-list.js';
import { manifestFileFor } from './avro/summary.js';
import type { ManifestEntry, ManifestFile, PartitionSpec, Schema, Snapshot, TableMetadata } from './types.js';
import { loadTableSchemas } from './validation.js';

/** Decoded manifests and manifest lists kept per store: they never change once written. */
const MANIFEST_CACHE_ENTRIES = 512;

interface Decoded {
  manifests: Map<string, ManifestEntry[]>;
  lists: Map<string, ManifestFile[]>;
}

/** The decoded files of each store, shared by every table opened on it. */
const decodedByStore = new WeakMap<ObjectStore, Decoded>();

function decodedOf(store: ObjectStore): Decoded {
  let d = decodedByStore.get(store);
  if (!d) {
    d = { manifests: new Map(), lists: new Map() };
    decodedByStore.set(store, d);
  }
  return d;
}

/** A manifest entry with the manifest it was read from. */
export interface LiveEntry {
  entry: ManifestEntry;
  manifest: ManifestFile;
}

/** What a manifest is written for. */
export interface ManifestOptions {
  schema: Schema;
  spec: PartitionSpec;
  snapshotId: bigint;
  content?: 'data' | 'deletes';
}

/** The snapshot a manifest list belongs to. */
export interface ManifestListOptions {
  snapshotId: bigint;
  parentId: bigint | null;
  sequenceNumber: number;
}

/** File access of one table through the object store. */
export class TableIO {
  readonly store: ObjectStore;
  readonly #manifests: Map<string, ManifestEntry[]>;
  readonly #lists: Map<string, ManifestFile[]>;

  constructor(store: ObjectStore) {
    this.store = store;
    const decoded = decodedOf(store);
    this.#manifests = decoded.manifests;
    this.#lists = decoded.lists;
  }

  /**
   * The store key of an absolute URI (`file:///…`, `s3://…`) under the store's root.
   * @throws InvalidInputError when the URI lies outside the store.
   */
  keyOf(uri: string): string {
    return keyForLocation(this.store, uri);
  }

  /** The absolute URI of a store key (keys are used verbatim in paths, as Java's FileIO does). */
  uriOf(key: string): string {
    return locationForKey(this.store, key);
  }

  /** A local file with the object's bytes (the file itself on a local store, a cached copy otherwise). */
  localPath(uri: string, signal?: AbortSignal): Promise<string> {
    return this.store.localPath(this.keyOf(uri), { signal });
  }

  /** The manifests of a snapshot. */
  async manifestList(snapshot: Snapshot, signal?: AbortSignal): Promise<ManifestFile[]> {
    const path = snapshot['manifest-list'];
    const cached = this.#lists.get(path);
    if (cached) return cached;
    const bytes = await this.store.getBytes(this.keyOf(path), { signal });
    const files = decodeManifestList(bytes).files;
    remember(this.#lists, path, files);
    return files;
  }

  /** Entries of a manifest, snapshot ids and sequence numbers inherited from its list entry. */
  async manifestEntries(manifest: ManifestFile, signal?: AbortSignal): Promise<ManifestEntry[]> {
    const cacheKey = `${manifest.manifest_path}\0${manifest.sequence_number}`;
    const cached = this.#manifests.get(cacheKey);
    if (cached) return cached;
    const bytes = await this.store.getBytes(this.keyOf(manifest.manifest_path), { signal });
    await loadTableSchemas();
    const entries = decodeManifest(bytes, manifest).entries;
    remember(this.#manifests, cacheKey, entries);
    return entries;
  }

  /**
   * Remember a committed snapshot's manifest list and the manifests it wrote, decoded from
   * their bytes exactly as a later read would, so that reading the new snapshot (the engine's
   * view of the table, the next commit) needs no file reads.
   */
  async remember(
    listPath: string,
    listBytes: Uint8Array,
    written: readonly { path: string; bytes: Uint8Array }[],
  ): Promise<void> {
    const files = decodeManifestList(
      Buffer.from(listBytes.buffer, listBytes.byteOffset, listBytes.byteLength),
    ).files;
    remember(this.#lists, listPath, files);
    await loadTableSchemas();
    for (const w of written) {
      const manifest = files.find((f) => f.manifest_path === w.path);
      if (!manifest) continue;
      const bytes = Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength);
      remember(
        this.#manifests,
        `${w.path}\0${manifest.sequence_number}`,
        decodeManifest(bytes, manifest).entries,
      );
    }
  }

  /** Live (ADDED or EXISTING) entries of the given manifests, read in parallel. */
  async liveEntries(manifests: readonly ManifestFile[], signal?: AbortSignal): Promise<LiveEntry[]> {
    const out: LiveEntry[] = [];
    const lists = await mapLimit(manifests, 16, (m) => this.manifestEntries(m, signal));
    manifests.forEach((m, i) => {
      for (const entry of lists[i] ?? []) if (entry.status !== 2) out.push({ entry, manifest: m });
    });
    return out;
  }

  /** Write a table file (a manifest, a manifest list) at its URI. */
  put(uri: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.store.put(this.keyOf(uri), bytes, { signal });
  }

  /** Write a manifest under `<location>/metadata/` and return its manifest list entry. */
  async writeManifest(
    md: TableMetadata,
    entries: readonly ManifestEntry[],
    o: ManifestOptions & { signal?: AbortSignal },
  ): Promise<ManifestFile> {
    const m = await this.encodeManifest(md, entries, o);
    await this.put(m.file.manifest_path, m.bytes, o.signal);
    return m.file;
  }

  /** A manifest's bytes and its manifest list entry, not written yet (see `writeManifest`). */
  async encodeManifest(
    md: TableMetadata,
    entries: readonly ManifestEntry[],
    o: ManifestOptions,
  ): Promise<{ file: ManifestFile; bytes: Uint8Array }> {
    const content = o.content ?? 'data';
    const bytes = await encodeManifest(entries, {
      schema: o.schema,
      spec: o.spec,
      formatVersion: 2,
      content,
    });
    const file = manifestFileFor(entries, {
      path: `${metadataDir(md)}/${randomUUID()}-m0.avro`,
      length: bytes.length,
      spec: o.spec,
      schema: o.schema,
      snapshotId: o.snapshotId,
      content,
    });
    return { file, bytes };
  }

  /** Write the manifest list of a snapshot; returns its URI. */
  async writeManifestList(
    md: TableMetadata,
    files: readonly ManifestFile[],
    o: ManifestListOptions & { signal?: AbortSignal },
  ): Promise<string> {
    const list = await this.encodeManifestList(md, files, o);
    await this.put(list.uri, list.bytes, o.signal);
    return list.uri;
  }

  /** A manifest list's bytes and URI, not written yet (see `writeManifestList`). */
  async encodeManifestList(
    md: TableMetadata,
    files: readonly ManifestFile[],
    o: ManifestListOptions,
  ): Promise<{ uri: string; bytes: Uint8Array }> {
    const bytes = await encodeManifestList(files, {
      snapshotId: o.snapshotId,
      parentSnapshotId: o.parentId,
      sequenceNumber: o.sequenceNumber,
      formatVersion: 2,
    });
    return { uri: `${metadataDir(md)}/snap-${o.snapshotId}-${o.sequenceNumber}-${randomUUID()}.avro`, bytes };
  }

  /** Delete files by URI (missing ones are fine). */
  async deleteFiles(uris: readonly string[], signal?: AbortSignal): Promise<void> {
    if (uris.length === 0) return;
    await this.store.delete(
      uris.map((u) => this.keyOf(u)),
      { signal },
    );
  }
}

/** `<location>/metadata` (or the `write.metadata.path` property). */
export function metadataDir(md: TableMetadata): string {
  return (md.properties['write.metadata.path'] ?? `${md.location}/metadata`).replace(/\/+$/, '');
}

/** `<location>/data` (or the `write.data.path` property). */
export function dataDir(md: TableMetadata): string {
  return (md.properties['write.data.path'] ?? `${md.location}/data`).replace(/\/+$/, '');
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MANIFEST_CACHE_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, value);
}

/** Map with at most `limit` calls in flight, results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
