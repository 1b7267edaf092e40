/** The task graph of a pipeline: checks (unique ids, known dependencies, no cycle) and walks. */

interface GraphTask {
  id: string;
  depends_on: string[];
}

/** A problem in the graph, at a path inside the pipeline document. */
export interface GraphIssue {
  path: (string | number)[];
  message: string;
}

/** Duplicate ids, dependencies on unknown tasks, and cycles (each named once). */
export function graphIssues(tasks: readonly GraphTask[]): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const index = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (index.has(t.id)) {
      issues.push({
        path: ['tasks', i, 'id'],
        message: `duplicate task id "${t.id}" (first defined as tasks[${index.get(t.id)}])`,
      });
    } else {
      index.set(t.id, i);
    }
  });
  tasks.forEach((t, i) => {
    t.depends_on.forEach((dep, j) => {
      if (!index.has(dep)) {
        issues.push({
          path: ['tasks', i, 'depends_on', j],
          message: `task "${t.id}" depends on "${dep}", which is not a task of this pipeline`,
        });
      } else if (dep === t.id) {
        issues.push({ path: ['tasks', i, 'depends_on', j], message: `task "${t.id}" depends on itself` });
      }
    });
  });
  const cycle = findCycle(tasks);
  if (cycle) {
    const at = index.get(cycle[0]!) ?? 0;
    issues.push({ path: ['tasks', at, 'depends_on'], message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  return issues;
}

/** One cycle as a path that starts and ends with the same task, or undefined. */
export function findCycle(tasks: readonly GraphTask[]): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.id, t.depends_on.filter((d) => d !== t.id)]));
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 'done') return undefined;
    if (s === 'active') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'active');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (!deps.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const t of tasks) {
    const found = visit(t.id);
    // The walk follows dependencies; show the cycle in the order work flows.
    if (found) return found.reverse();
  }
  return undefined;
}

/** The task graph of a validated pipeline. */
export class TaskGraph {
  readonly #deps = new Map<string, string[]>();
  readonly #children = new Map<string, string[]>();
  /** Task ids in dependency order. */
  readonly order: string[];

  constructor(tasks: readonly GraphTask[]) {
    for (const t of tasks) {
      this.#deps.set(t.id, [...t.depends_on]);
      this.#children.set(t.id, []);
    }
    for (const t of tasks) for (const d of t.depends_on) this.#children.get(d)?.push(t.id);
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const d of this.#deps.get(id) ?? []) visit(d);
      order.push(id);
    };
    for (const t of tasks) visit(t.id);
    this.order = order;
  }

  has(id: string): boolean {
    return this.#deps.has(id);
  }

  upstream(id: string): readonly string[] {
    return this.#deps.get(id) ?? [];
  }

  downstream(id: string): readonly string[] {
    return this.#children.get(id) ?? [];
  }

  /** `id` and every task that depends on it, directly or not. */
  withDescendants(id: string): Set<string> {
    const out = new Set<string>();
    const walk = (t: string) => {
      if (out.has(t)) return;
      out.add(t);
      for (const c of this.downstream(t)) walk(c);
    };
    walk(id);
    return out;
  }
}
