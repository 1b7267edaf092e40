import { formatIdentifier } from '../../catalog/index.js';
import { keyForLocation } from '../../storage/index.js';
import {
  currentSnapshot,
  decodeManifest,
  decodeManifestList,
  EntryStatus,
  type PartitionData,
  snapshotById,
} from '../../table/index.js';
import { NotFoundError } from '../../util/index.js';
import { formatTable } from '../output.js';
import { emit, loadNamed, parseSnapshotId, type TablesContext } from './tables-common.js';

const CONTENT = ['data', 'position-deletes', 'equality-deletes'] as const;

function partitionJson(p: PartitionData): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(p).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]),
  );
}

/** `sluice tables files TABLE [--snapshot ID]`: live files of a snapshot, from its manifests. */
export async function files(t: TablesContext, name: string, opts: { snapshot?: string }): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const md = loaded.metadata;
  const store = t.runtime.store;
  const snap = opts.snapshot
    ? snapshotById(md, parseSnapshotId(opts.snapshot, '--snapshot'))
    : currentSnapshot(md);
  if (opts.snapshot && !snap) {
    throw new NotFoundError(
      `table "${formatIdentifier(loaded.identifier)}" has no snapshot ${opts.snapshot}`,
      'list snapshots with `sluice tables snapshots TABLE`',
    );
  }
  const rows: Record<string, unknown>[] = [];
  if (snap) {
    const list = decodeManifestList(await store.getBytes(keyForLocation(store, snap['manifest-list'])));
    for (const manifest of list.files) {
      const decoded = decodeManifest(
        await store.getBytes(keyForLocation(store, manifest.manifest_path)),
        manifest,
      );
      for (const entry of decoded.entries) {
        if (entry.status === EntryStatus.DELETED) continue;
        const f = entry.data_file;
        rows.push({
          content: CONTENT[f.content] ?? String(f.content),
          path: f.file_path,
          format: f.file_format,
          records: f.record_count,
          sizeBytes: f.file_size_in_bytes,
          partition: partitionJson(f.partition),
          specId: manifest.partition_spec_id,
          sequenceNumber: entry.sequence_number,
        });
      }
    }
  }
  emit(t.out, {
    table: formatIdentifier(loaded.identifier),
    snapshotId: snap?.['snapshot-id'] ?? null,
    files: rows,
  });
  if (!snap) return t.out.line('no files (empty table)');
  t.out.line(
    formatTable(
      rows.map((r) => [
        String(r.content),
        String(r.records),
        String(r.sizeBytes),
        Object.entries(r.partition as Record<string, unknown>)
          .map(([k, v]) => `${k}=${v === null ? 'null' : String(v)}`)
          .join(','),
        String(r.path),
      ]),
      { header: ['content', 'records', 'bytes', 'partition', 'path'] },
    ),
  );
  t.out.line(`${rows.length} file(s) in snapshot ${snap['snapshot-id']}`);
}
