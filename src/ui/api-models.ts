/** The SQL models' lineage graph from `GET /api/v1/models`. */
import { apiJson } from './api-runs';

export interface ModelNode {
  id: string;
  kind: 'model' | 'seed' | 'source';
  name: string;
  relation?: string;
  materialized?: string;
  path: string;
  description?: string;
  tags: string[];
  columns: { name: string; description?: string }[];
  tests: string[];
  build: { snapshotId: string; builtAt: string } | null;
  compiled?: { sql?: string; error?: string };
}

export interface ModelGraph {
  project: string;
  nodes: ModelNode[];
  edges: { from: string; to: string }[];
}

/** The graph of the dbt project in `dir` (relative to the Sluice project; default: the project itself). */
export const fetchModels = (signal: AbortSignal, dir?: string | null) =>
  apiJson<ModelGraph>(`/models${dir ? `?dir=${encodeURIComponent(dir)}` : ''}`, signal);
