/** The model graph as the API shows it: nodes with columns and descriptions, edges from refs and sources. */
import { relationOf } from './compile.js';
import type { ModelsProject } from './types.js';

/** A node of the lineage graph. */
export interface LineageNode {
  id: string;
  kind: 'model' | 'seed' | 'source';
  name: string;
  /** The lake table (`schema.table`); absent for ephemeral models. */
  relation?: string;
  materialized?: string;
  path: string;
  description?: string;
  tags: string[];
  columns: { name: string; description?: string }[];
  tests: string[];
}

/** Models, seeds and sources with the edges between them (`from` is read by `to`). */
export interface LineageGraph {
  project: string;
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
}

/** The lineage graph of a project. */
export function lineageOf(project: ModelsProject): LineageGraph {
  const testsOf = (id: string) => project.tests.filter((t) => t.attachedTo === id).map((t) => t.name);
  const nodes: LineageNode[] = [];
  const edges: { from: string; to: string }[] = [];
  for (const s of project.sources.values()) {
    nodes.push({
      id: `source:${s.id}`,
      kind: 'source',
      name: s.id,
      relation: s.relation,
      path: s.path,
      description: s.description,
      tags: [],
      columns: s.columns,
      tests: testsOf(s.id),
    });
  }
  for (const n of project.nodes.values()) {
    nodes.push({
      id: `${n.kind}:${n.name}`,
      kind: n.kind,
      name: n.name,
      relation: n.config.materialized === 'ephemeral' && n.kind === 'model' ? undefined : relationOf(n),
      materialized: n.kind === 'seed' ? 'seed' : n.config.materialized,
      path: n.path,
      description: n.description,
      tags: n.config.tags,
      columns: n.columns,
      tests: testsOf(n.name),
    });
    for (const r of n.refs)
      edges.push({ from: `${project.nodes.get(r)?.kind ?? 'model'}:${r}`, to: `model:${n.name}` });
    for (const s of n.sources) edges.push({ from: `source:${s}`, to: `model:${n.name}` });
  }
  return { project: project.name, nodes, edges };
}
