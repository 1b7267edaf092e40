/**
 * The DAG of models and seeds from their refs, build order, and dbt's `--select` syntax:
 * `name`, `+name` (with its ancestors), `name+` (with its descendants), `tag:x`,
 * `path:models/staging`; several selectors separated by spaces or commas are a union.
 */
import { InvalidInputError } from '../util/index.js';
import type { ModelsProject } from './types.js';

/** Children of each node (nodes that ref it). */
export function childrenOf(project: ModelsProject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of project.nodes.keys()) out.set(name, []);
  for (const node of project.nodes.values()) for (const r of node.refs) out.get(r)?.push(node.name);
  return out;
}

function closure(start: string, next: (n: string) => readonly string[], into: Set<string>): void {
  const stack = [start];
  while (stack.length) {
    const n = stack.pop() as string;
    for (const m of next(n)) {
      if (into.has(m)) continue;
      into.add(m);
      stack.push(m);
    }
  }
}

/** The nodes one selector names (before graph operators). */
function matchBase(project: ModelsProject, base: string): string[] {
  if (base.startsWith('tag:')) {
    const tag = base.slice(4);
    return [...project.nodes.values()].filter((n) => n.config.tags.includes(tag)).map((n) => n.name);
  }
  if (base.startsWith('path:')) {
    const path = base.slice(5).replace(/^\.\//, '').replace(/\/+$/, '');
    return [...project.nodes.values()]
      .filter((n) => n.path === path || n.path.startsWith(`${path}/`))
      .map((n) => n.name);
  }
  if (base.includes(':'))
    throw new InvalidInputError(
      `selector "${base}": unknown method "${base.split(':')[0]}"`,
      'selectors: name, +name, name+, tag:x, path:models/dir',
    );
  if (base === '*') return [...project.nodes.keys()];
  return project.nodes.has(base) ? [base] : [];
}

/**
 * The names a `--select` expression selects (all nodes when it is empty).
 * @throws InvalidInputError for a selector that matches nothing or is malformed.
 */
export function selectNodes(project: ModelsProject, select?: string | string[]): Set<string> {
  const parts = (Array.isArray(select) ? select : [select ?? ''])
    .flatMap((s) => s.split(/[\s,]+/))
    .filter(Boolean);
  if (parts.length === 0) return new Set(project.nodes.keys());
  const children = childrenOf(project);
  const out = new Set<string>();
  for (const part of parts) {
    const m = /^(\+?)([^+]+)(\+?)$/.exec(part);
    if (!m)
      throw new InvalidInputError(`selector "${part}" is malformed`, 'write name, +name, name+ or +name+');
    const [, up, base = '', down] = m;
    const matched = matchBase(project, base);
    if (matched.length === 0)
      throw new InvalidInputError(
        `selector "${part}" matches no model or seed`,
        `models: ${[...project.nodes.keys()].sort().join(', ')}`,
      );
    for (const name of matched) {
      out.add(name);
      if (up) closure(name, (n) => project.nodes.get(n)?.refs ?? [], out);
      if (down) closure(name, (n) => children.get(n) ?? [], out);
    }
  }
  return out;
}

/** `names` ordered so every node comes after the nodes it refs. */
export function buildOrder(project: ModelsProject, names: Iterable<string>): string[] {
  const wanted = new Set(names);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const r of project.nodes.get(n)?.refs ?? []) visit(r);
    if (wanted.has(n)) out.push(n);
  };
  for (const n of [...wanted].sort()) visit(n);
  return out;
}
