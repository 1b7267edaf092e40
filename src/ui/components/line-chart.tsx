import { useId } from 'react';
import './line-chart.css';

/** One line of a chart; `undefined` values leave a gap. */
export interface ChartSeries {
  label: string;
  values: readonly (number | undefined)[];
  /** CSS class giving the line its colour (`series-1`, `series-2`). */
  className: string;
}

export interface LineChartProps {
  title: string;
  series: readonly ChartSeries[];
  /** Number of samples across the full width; newer samples enter on the right. */
  capacity: number;
  format: (value: number) => string;
  /** Label of the left end of the time axis ("2 min ago"). */
  windowLabel: string;
  /** Label of the right end of the time axis (default "now"). */
  endLabel?: string;
  /** Caption under the chart: what is counted. */
  caption?: string;
  /** The scale's top is a round multiple of this unit (1 MiB for bytes). */
  unit?: number;
}

const W = 600;
const H = 160;

/** A small live line chart drawn as inline SVG, with its latest values as text. */
export function LineChart({
  title,
  series,
  capacity,
  format,
  windowLabel,
  endLabel = 'now',
  caption,
  unit = 1,
}: LineChartProps) {
  const id = useId();
  const max = unit * niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter(isNumber))) / unit);
  const x = (i: number, n: number) => (W * (capacity - n + i)) / Math.max(1, capacity - 1);
  const y = (v: number) => H - (H * v) / max;
  const drawn = series.reduce((n, s) => n + s.values.filter(isNumber).length, 0);
  const latest = series.map((s) => ({ s, v: [...s.values].reverse().find(isNumber) }));
  const summary = latest.map(({ s, v }) => `${s.label} ${v === undefined ? 'no data' : format(v)}`);

  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <div className="chart-head">
        <h3 id={`${id}-title`}>{title}</h3>
        <ul className="chart-legend">
          {latest.map(({ s, v }) => (
            <li key={s.label} className={s.className}>
              <span className="swatch" aria-hidden="true" />
              {series.length > 1 && <span className="legend-label">{s.label}</span>}
              <strong>{v === undefined ? '–' : format(v)}</strong>
            </li>
          ))}
        </ul>
      </div>
      <div className="chart-plot">
        <span className="axis-label axis-top">{format(max)}</span>
        <span className="axis-label axis-bottom">0</span>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${title}: ${summary.join(', ')}`}
          data-points={drawn}
        >
          {[0, 0.5, 1].map((f) => (
            <line key={f} className="grid" x1={0} x2={W} y1={H * f} y2={H * f} />
          ))}
          {series.map((s) =>
            runs(s.values).map((run) => {
              const pts = run.map(([i, v]) => `${x(i, s.values.length).toFixed(1)},${y(v).toFixed(1)}`);
              const first = x(run[0]?.[0] ?? 0, s.values.length).toFixed(1);
              const last = x(run[run.length - 1]?.[0] ?? 0, s.values.length).toFixed(1);
              return (
                <g key={`${s.label}-${run[0]?.[0]}`} className={s.className}>
                  <polygon className="area" points={`${first},${H} ${pts.join(' ')} ${last},${H}`} />
                  <polyline className="line" points={pts.join(' ')} />
                </g>
              );
            }),
          )}
        </svg>
      </div>
      <div className="axis-x" aria-hidden="true">
        <span>{windowLabel}</span>
        <span>{endLabel}</span>
      </div>
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}

function isNumber(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v);
}

/** Consecutive defined values as [index, value] runs, so gaps stay gaps. */
function runs(values: readonly (number | undefined)[]): [number, number][][] {
  const out: [number, number][][] = [];
  let current: [number, number][] = [];
  values.forEach((v, i) => {
    if (isNumber(v)) current.push([i, v]);
    else if (current.length > 0) {
      out.push(current);
      current = [];
    }
  });
  if (current.length > 0) out.push(current);
  return out;
}

/** The smallest 1, 2 or 5 × 10^n at or above `v`, so the top gridline reads well. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  const step = [1, 2, 5, 10].find((m) => m * exp >= v) ?? 10;
  return step * exp;
}
