export interface ChartSeries {
  name: string
  values: { label: string; value: number }[]
}

/**
 * A grouped bar chart in plain SVG. The picture is for the eye; the same figures are in a table
 * beside it for screen readers (and anyone who wants the numbers).
 */
export function BarChart({
  title,
  unit,
  series,
  format = (value: number) => String(Math.round(value * 100) / 100),
}: {
  title: string
  unit: string
  series: ChartSeries[]
  format?: (value: number) => string
}) {
  const labels = [...new Set(series.flatMap((one) => one.values.map((point) => point.label)))]
  const max = Math.max(1, ...series.flatMap((one) => one.values.map((point) => point.value)))
  const barWidth = 18
  const groupWidth = barWidth * series.length + 16
  const height = 140
  const top = 10
  const width = Math.max(200, labels.length * groupWidth + 50)
  return (
    <figure className="chart-figure">
      <svg
        className="chart"
        viewBox={`0 0 ${width} ${height + 40}`}
        width={width}
        height={height + 40}
        role="img"
        aria-label={title}
      >
        <title>{title}</title>
        <line className="axis" x1={40} y1={top + height} x2={width} y2={top + height} />
        <text x={2} y={top + 8}>
          {format(max)}
        </text>
        <text x={2} y={top + height}>
          0
        </text>
        {labels.map((label, group) => (
          <g key={label}>
            {series.map((one, index) => {
              const value = one.values.find((point) => point.label === label)?.value ?? 0
              const barHeight = (value / max) * height
              return (
                <rect
                  key={one.name}
                  className={index % 2 === 0 ? 'bar' : 'bar alt'}
                  x={44 + group * groupWidth + index * barWidth}
                  y={top + height - barHeight}
                  width={barWidth - 2}
                  height={barHeight}
                >
                  <title>{`${one.name}, ${label}: ${format(value)} ${unit}`}</title>
                </rect>
              )
            })}
            <text x={44 + group * groupWidth} y={top + height + 16}>
              {label.length > 14 ? `${label.slice(0, 13)}…` : label}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        {title}
        {series.length > 1 ? ` (${series.map((one) => one.name).join(', ')})` : ''}
      </figcaption>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Label</th>
            {series.map((one) => (
              <th key={one.name} scope="col">
                {one.name} ({unit})
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((label) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              {series.map((one) => (
                <td key={one.name}>
                  {format(one.values.find((point) => point.label === label)?.value ?? 0)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  )
}
