import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS custom property of the theme, e.g. `--chart-1`: the chart follows light and dark. */
  colorVar: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A time-series chart (uPlot: small, bundled with the app). `times` are epoch ms; values show in the legend as the
 * pointer moves over the chart. Redrawn when the data, the width or the color scheme changes.
 */
export function Chart({
  times,
  series,
  title,
  height = 240,
  dates = false,
}: {
  times: number[];
  series: ChartSeries[];
  title: string;
  height?: number;
  /** Label the x axis with days only. */
  dates?: boolean;
}) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    let plot: uPlot | null = null;
    const draw = () => {
      plot?.destroy();
      const axisColor = cssVar('--muted');
      const gridColor = cssVar('--line');
      plot = new uPlot(
        {
          width: Math.max(280, element.clientWidth),
          height,
          legend: { show: true },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true } },
          axes: [
            {
              stroke: axisColor,
              grid: { stroke: gridColor, width: 1 },
              ticks: { stroke: gridColor },
              ...(dates && { values: '{D} {MMM}' }),
            },
            {
              stroke: axisColor,
              grid: { stroke: gridColor, width: 1 },
              ticks: { stroke: gridColor },
              size: 60,
            },
          ],
          series: [
            { label: dates ? 'Day' : 'Time', value: dates ? '{D} {MMM} {YYYY}' : '{D} {MMM} {HH}:{mm}' },
            ...series.map((entry) => ({
              label: entry.label,
              stroke: cssVar(entry.colorVar),
              width: 2,
              points: { show: times.length < 60 },
              value: (_: uPlot, value: number | null) => (value === null ? '–' : value.toLocaleString()),
            })),
          ],
        },
        [times.map((at) => at / 1000), ...series.map((entry) => entry.values)],
        element,
      );
    };
    draw();
    const resized = new ResizeObserver(() => {
      if (plot && Math.abs(plot.width - element.clientWidth) > 8) draw();
    });
    resized.observe(element);
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', draw);
    return () => {
      resized.disconnect();
      scheme.removeEventListener('change', draw);
      plot?.destroy();
    };
  }, [times, series, height, dates]);

  return <figure className="chart" aria-label={title} ref={container} />;
}
