/** A horizontal bar chart of labelled values (for query results of up to a few dozen rows). */
export function BarChart({
  labels,
  values,
  title,
  width = 720,
  labelWidth = 180,
}: {
  labels: string[];
  values: number[];
  title: string;
  /** Drawing width; a smaller one keeps the text readable in a narrow column. */
  width?: number;
  labelWidth?: number;
}) {
  const max = Math.max(0, ...values.filter(Number.isFinite));
  const rowHeight = 22;
  const maxChars = Math.floor(labelWidth / 7);
  const height = labels.length * rowHeight + 8;
  return (
    <figure className="bar-chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} data-bars={labels.length}>
        {labels.map((label, i) => {
          const v = Number.isFinite(values[i]) ? (values[i] as number) : 0;
          const w = max > 0 ? ((width - labelWidth - 80) * Math.max(0, v)) / max : 0;
          const y = i * rowHeight + 4;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: bars are positional
            <g key={i}>
              <title>{`${label}: ${v.toLocaleString()}`}</title>
              <text x={labelWidth - 8} y={y + 14} textAnchor="end" className="bar-label">
                {label.length > maxChars ? `…${label.slice(label.length - maxChars + 1)}` : label}
              </text>
              <rect x={labelWidth} y={y} width={w} height={rowHeight - 6} rx={2} className="bar" />
              <text x={labelWidth + w + 6} y={y + 14} className="bar-value">
                {v.toLocaleString()}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
