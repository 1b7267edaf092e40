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

export const fetchModels = (signal: AbortSignal) => apiJson<ModelGraph>('/models', signal);
