import { useId } from 'react';
import './line-chart.css';

/** One stacked part of every bar. */
export interface BarSeries {
  label: string;
  values: readonly number[];
  /** CSS class giving the part its colour (`series-ok`, `series-bad`, `series-1`). */
  className: string;
}

const W = 600;
const H = 140;

/** Stacked vertical bars over time buckets (runs per hour: succeeded and failed). */
export function TimeBars({
  title,
  series,
  labels,
  caption,
}: {
  title: string;
  series: readonly BarSeries[];
  /** One label per bucket; the first and last are shown under the axis. */
  labels: readonly string[];
  caption?: string;
}) {
  const id = useId();
  const n = labels.length;
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = W / Math.max(1, n);
  const barW = Math.max(1, slot * 0.7);
  const sums = series.map((s) => ({ s, total: s.values.reduce((a, b) => a + b, 0) }));

  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <div className="chart-head">
        <h3 id={`${id}-title`}>{title}</h3>
        <ul className="chart-legend">
          {sums.map(({ s, total }) => (
            <li key={s.label} className={s.className}>
              <span className="swatch" aria-hidden="true" />
              <span className="legend-label">{s.label}</span>
              <strong>{total.toLocaleString()}</strong>
            </li>
          ))}
        </ul>
      </div>
      <div className="chart-plot">
        <span className="axis-label axis-top">{max.toLocaleString()}</span>
        <span className="axis-label axis-bottom">0</span>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${title}: ${sums.map(({ s, total }) => `${s.label} ${total}`).join(', ')}`}
          data-bars={totals.filter((t) => t > 0).length}
        >
          {[0, 0.5, 1].map((f) => (
            <line key={f} className="grid" x1={0} x2={W} y1={H * f} y2={H * f} />
          ))}
          {labels.map((label, i) => {
            let top = H;
            return (
              <g key={label}>
                <title>{`${label}: ${series.map((s) => `${s.label} ${s.values[i] ?? 0}`).join(', ')}`}</title>
                {series.map((s) => {
                  const v = s.values[i] ?? 0;
                  if (v <= 0) return null;
                  const h = (H * v) / max;
                  top -= h;
                  return (
                    <rect
                      key={s.label}
                      className={`bar-part ${s.className}`}
                      x={i * slot + (slot - barW) / 2}
                      y={top}
                      width={barW}
                      height={h}
                    />
                  );
                })}
              </g>
            );
          })}
        </svg>
      </div>
      <div className="axis-x" aria-hidden="true">
        <span>{labels[0]}</span>
        <span>{labels[n - 1]}</span>
      </div>
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}
