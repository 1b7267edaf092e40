/** The pieces of a models project (a dbt project) as Sluice loads them. */

/** How a model is materialized on the lake. */
export type Materialization = 'table' | 'view' | 'incremental' | 'ephemeral' | 'snapshot';

/** How a dbt snapshot (snapshots/*.sql) detects changed rows. */
export interface SnapshotConfig {
  strategy: 'timestamp' | 'check';
  /** timestamp: the column holding when a row last changed. */
  updatedAt?: string;
  /** check: the columns compared (`all`: every column). */
  checkCols?: string[] | 'all';
}

/** A model's config: dbt_project.yml folder config, then schema.yml `config:`, then `{{ config() }}`. */
export interface ModelConfig {
  materialized: Materialization;
  /** Merge key of an incremental model (no key: incremental builds append). */
  uniqueKey?: string[];
  /** Custom schema: the table lands in `<target schema>_<schema>`. */
  schema?: string;
  tags: string[];
  enabled: boolean;
  /** Set for snapshots. */
  snapshot?: SnapshotConfig;
  /** A snapshot's `target_schema` (used as is, not prefixed). */
  targetSchema?: string;
  /** `pre-hook` SQL (Jinja), run through the engine before the build, in order. */
  preHooks: string[];
  /** `post-hook` SQL (Jinja), run after the build. */
  postHooks: string[];
}

/** How a PII column is masked for readers without the `pii` privilege (`default`: the table's method, hash unless set). */
export type PiiMasking = 'default' | 'hash' | 'redact' | 'null';

/** A column as schema.yml documents it. */
export interface ColumnDoc {
  name: string;
  description?: string;
  /** Tagged PII (`meta: {pii: true}`, `meta: {pii: redact}`, `tags: [pii]`, also under `config:`). */
  pii?: PiiMasking;
}

/** A model (models/**\/*.sql) or seed (seeds/*.csv). */
export interface ModelNode {
  kind: 'model' | 'seed';
  name: string;
  /** Path relative to the models project directory, e.g. `models/staging/stg_orders.sql`. */
  path: string;
  /** Jinja text (models); empty for seeds. */
  raw: string;
  config: ModelConfig;
  /** Models and seeds it refs, by name. */
  refs: string[];
  /** Sources it reads, as `source.table`. */
  sources: string[];
  /** Where it lands: `schema.name` (ephemeral models land nowhere). */
  schema: string;
  description?: string;
  columns: ColumnDoc[];
}

/** A table of a `sources:` entry: an existing lake table models read with `source()`. */
export interface SourceTable {
  /** `source.table`. */
  id: string;
  source: string;
  name: string;
  /** The lake table: `schema.identifier`. */
  relation: string;
  description?: string;
  columns: ColumnDoc[];
  loadedAtField?: string;
  freshness?: Freshness;
  /** The yml file declaring it. */
  path: string;
}

/** How stale a source may get: `warn_after` / `error_after` as seconds. */
export interface Freshness {
  warnAfterSeconds?: number;
  errorAfterSeconds?: number;
}

/** A data test: generic (from schema.yml) or singular (tests/*.sql). */
export interface DataTest {
  name: string;
  kind: 'not_null' | 'unique' | 'accepted_values' | 'relationships' | 'singular';
  /** The model, seed or source (`source.table`) it tests. */
  attachedTo: string;
  column?: string;
  severity: 'warn' | 'error';
  /** Models and seeds it reads (for selection and ordering). */
  refs: string[];
  /** Declared where (yml or tests/*.sql). */
  path: string;
  /** The parent a `relationships` test checks against: a model or seed, or a source table (`source.table`). */
  parent?: { ref?: string; source?: string };
  /** Arguments of a generic test (values, to, field, quote). */
  args: Record<string, unknown>;
  /** Jinja text of a singular test. */
  raw?: string;
}

/** A loaded models project. */
export interface ModelsProject {
  /** Directory holding dbt_project.yml. */
  dir: string;
  name: string;
  /** Schema of models without a custom schema (`<target>_<custom>` for the others). */
  targetSchema: string;
  /** Models and seeds by name. */
  nodes: Map<string, ModelNode>;
  sources: Map<string, SourceTable>;
  tests: DataTest[];
  /** Macro names by file (relative path). */
  macros: Map<string, string[]>;
  /** Package of a macro file vendored under `dbt_packages/` (its macros are also `pkg.name`). */
  macroPackages: Map<string, string>;
  vars: Record<string, unknown>;
  /** `on-run-start` / `on-run-end` of dbt_project.yml (Jinja SQL). */
  onRunStart: string[];
  onRunEnd: string[];
}
