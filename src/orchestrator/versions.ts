/**
 * Pipeline versions: the definition each run is pinned to, stored once per hash, and
 * compiled once per process.
 */
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import { BackendError } from '../util/index.js';
import type { Pipeline } from './definition.js';
import type { TaskGraph } from './graph.js';
import { compilePipeline, type LoadedPipeline } from './load.js';
import type { TaskKindRegistry } from './registry.js';

/** A compiled pipeline version. */
export interface PipelineVersion {
  hash: string;
  def: Pipeline;
  graph: TaskGraph;
  tasks: Map<string, Pipeline['tasks'][number]>;
  /** Tasks as written (`${VAR}` and templates unresolved), resolved when an attempt starts. */
  rawTasks: Map<string, Record<string, unknown>>;
}

/** Compiled versions by pipeline and hash, read from the metastore on first use. */
export class VersionCache {
  readonly #meta: MetaStore;
  readonly #kinds: TaskKindRegistry;
  readonly #cache = new Map<string, PipelineVersion>();

  constructor(meta: MetaStore, kinds: TaskKindRegistry) {
    this.#meta = meta;
    this.#kinds = kinds;
  }

  /** Record a loaded pipeline's version (idempotent) and cache it. */
  async save(db: SqlRunner, p: LoadedPipeline): Promise<void> {
    await db.execute(
      `INSERT INTO sluice_pipeline_versions (pipeline, hash, definition, source, created_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (pipeline, hash) DO NOTHING`,
      [p.name, p.hash, JSON.stringify(p.raw), p.file, Date.now()],
    );
    this.#cache.set(`${p.name}@${p.hash}`, versionOf(p.hash, p.raw, p.def, p.graph));
  }

  /** The version `hash` of `pipeline`. @throws BackendError when it was never recorded. */
  async get(pipeline: string, hash: string, db: SqlRunner = this.#meta): Promise<PipelineVersion> {
    const key = `${pipeline}@${hash}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const [row] = await db.query<{ definition: string }>(
      'SELECT definition FROM sluice_pipeline_versions WHERE pipeline = ? AND hash = ?',
      [pipeline, hash],
    );
    if (!row) throw new BackendError(`pipeline "${pipeline}" has no recorded version ${hash}`);
    const raw = JSON.parse(row.definition) as Record<string, unknown>;
    const { def, graph } = compilePipeline(raw, this.#kinds);
    const version = versionOf(hash, raw, def, graph);
    this.#cache.set(key, version);
    return version;
  }
}

function versionOf(
  hash: string,
  raw: Record<string, unknown>,
  def: Pipeline,
  graph: TaskGraph,
): PipelineVersion {
  const rawTasks = (Array.isArray(raw.tasks) ? raw.tasks : []) as Record<string, unknown>[];
  return {
    hash,
    def,
    graph,
    tasks: new Map(def.tasks.map((t) => [t.id, t])),
    rawTasks: new Map(rawTasks.map((t) => [String(t.id), t])),
  };
}
