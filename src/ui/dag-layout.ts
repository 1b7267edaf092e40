/** Layered layout of a task graph, computed in the browser (no graph library). */

export interface DagNode {
  id: string;
  dependsOn: readonly string[];
}

export interface PlacedNode {
  id: string;
  layer: number;
  /** Position within its layer, top to bottom. */
  row: number;
}

export interface DagLayout {
  nodes: PlacedNode[];
  edges: { from: string; to: string }[];
  layers: number;
  /** Most nodes in one layer. */
  rows: number;
}

/**
 * Each task goes one layer right of its deepest dependency (longest path from a root);
 * within a layer tasks are ordered by the mean row of their dependencies, a few sweeps of
 * the barycenter heuristic, to keep edges from crossing. Unknown dependencies and cycles
 * are tolerated (a cycle's members land in layer 0) so a broken definition still draws.
 */
export function layoutDag(tasks: readonly DagNode[]): DagLayout {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d));
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(depth));
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  for (const t of tasks) depth(t.id);

  const layers: string[][] = [];
  for (const t of tasks) {
    const l = layer.get(t.id) ?? 0;
    const ids = layers[l] ?? [];
    ids.push(t.id);
    layers[l] = ids;
  }
  const row = new Map<string, number>();
  const setRows = () => {
    for (const ids of layers) for (const [i, id] of (ids ?? []).entries()) row.set(id, i);
  };
  setRows();
  const children = new Map<string, string[]>();
  for (const t of tasks)
    for (const d of t.dependsOn) if (byId.has(d)) children.set(d, [...(children.get(d) ?? []), t.id]);
  const mean = (ids: readonly string[], own: number) =>
    ids.length === 0 ? own : ids.reduce((s, id) => s + (row.get(id) ?? 0), 0) / ids.length;
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.keys() : [...layers.keys()].reverse();
    for (const l of order) {
      const ids = layers[l];
      if (!ids) continue;
      const key = new Map(
        ids.map((id) => {
          const near = down
            ? (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d))
            : (children.get(id) ?? []);
          return [id, mean(near, row.get(id) ?? 0)];
        }),
      );
      ids.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0));
      for (const [i, id] of ids.entries()) row.set(id, i);
    }
  }

  return {
    nodes: tasks.map((t) => ({ id: t.id, layer: layer.get(t.id) ?? 0, row: row.get(t.id) ?? 0 })),
    edges: tasks.flatMap((t) => t.dependsOn.filter((d) => byId.has(d)).map((d) => ({ from: d, to: t.id }))),
    layers: layers.length,
    rows: Math.max(0, ...layers.map((ids) => ids?.length ?? 0)),
  };
}
