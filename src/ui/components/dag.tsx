import { layoutDag } from '../dag-layout';
import './dag.css';

const NODE_W = 168;
const NODE_H = 40;
const GAP_X = 64;
const GAP_Y = 18;
const PAD = 12;

export interface DagTask {
  id: string;
  kind?: string;
  dependsOn: readonly string[];
}

/**
 * A pipeline's tasks as a graph: a box per task, coloured by `states[task]` (the last run's
 * task states), and an arrow per dependency. Clicking a task calls `onSelect`.
 */
export function Dag({
  tasks,
  states = {},
  title,
  selected,
  onSelect,
}: {
  tasks: readonly DagTask[];
  states?: Record<string, string>;
  title: string;
  selected?: string;
  onSelect?: (task: string) => void;
}) {
  const layout = layoutDag(tasks);
  const rows = Math.max(1, layout.rows);
  const width = PAD * 2 + layout.layers * NODE_W + Math.max(0, layout.layers - 1) * GAP_X;
  const height = PAD * 2 + rows * NODE_H + (rows - 1) * GAP_Y;
  const pos = new Map(
    layout.nodes.map((n) => {
      const inLayer = layout.nodes.filter((m) => m.layer === n.layer).length;
      // Layers with fewer tasks are centred vertically.
      const offset = ((rows - inLayer) * (NODE_H + GAP_Y)) / 2;
      return [n.id, { x: PAD + n.layer * (NODE_W + GAP_X), y: PAD + offset + n.row * (NODE_H + GAP_Y) }];
    }),
  );
  const kinds = new Map(tasks.map((t) => [t.id, t.kind]));

  return (
    <div className="dag-wrap">
      <svg
        className="dag"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${title}: ${tasks.length} tasks, ${layout.edges.length} dependencies`}
        data-tasks={tasks.length}
      >
        <defs>
          <marker
            id="dag-arrow"
            viewBox="0 0 8 8"
            refX="8"
            refY="4"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L8,4 L0,8 z" className="dag-arrowhead" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const a = pos.get(e.from);
          const b = pos.get(e.to);
          if (!a || !b) return null;
          const x1 = a.x + NODE_W;
          const y1 = a.y + NODE_H / 2;
          const x2 = b.x;
          const y2 = b.y + NODE_H / 2;
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${e.from}->${e.to}`}
              className="dag-edge"
              d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 1},${y2}`}
              markerEnd="url(#dag-arrow)"
            />
          );
        })}
        {layout.nodes.map((n) => {
          const p = pos.get(n.id) ?? { x: 0, y: 0 };
          const state = states[n.id] ?? 'none';
          const kind = kinds.get(n.id);
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
            <g
              key={n.id}
              className={`dag-node state-${state}${selected === n.id ? ' selected' : ''}`}
              transform={`translate(${p.x},${p.y})`}
              data-task={n.id}
              data-state={state}
              role="button"
              tabIndex={0}
              aria-label={`${n.id}${kind ? ` (${kind})` : ''}: ${state === 'none' ? 'not run' : state}`}
              onClick={() => onSelect?.(n.id)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect?.(n.id);
                }
              }}
            >
              <title>{`${n.id}${kind ? ` · ${kind}` : ''} · ${state === 'none' ? 'not run' : state}`}</title>
              <rect width={NODE_W} height={NODE_H} rx={6} />
              <circle cx={14} cy={NODE_H / 2} r={5} className="dag-dot" />
              <text x={26} y={kind ? 17 : 25} className="dag-label">
                {n.id.length > 18 ? `${n.id.slice(0, 16)}…` : n.id}
              </text>
              {kind && (
                <text x={26} y={31} className="dag-kind">
                  {kind}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
