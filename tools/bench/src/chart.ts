import type { SuiteResult } from './suite';

/** Options of {@link suiteChart}. */
export interface ChartOptions {
  /** Metrics to draw, in order. @default every numeric metric of the rows */
  metrics?: readonly string[];
  /** A line under the title (the run's date and machine). */
  subtitle?: string;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#4b5563'];

function label(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : Number(value.toPrecision(3)).toString();
}

/**
 * A suite's table as an SVG chart: one panel per metric, one horizontal bar per system scaled to that metric's
 * largest value, the value written beside it. Self-contained (no fonts, scripts or links), so a README can show it
 * beside the table it draws.
 */
export function suiteChart(result: SuiteResult, options: ChartOptions = {}): string {
  const numeric = (metric: string) => result.rows.some((row) => typeof row.metrics[metric] === 'number');
  const metrics = (options.metrics ?? [...new Set(result.rows.flatMap((row) => Object.keys(row.metrics)))]).filter(numeric);
  const systems = result.rows.map((row) => row.system);
  const barHeight = 14;
  const gap = 4;
  const labelWidth = 8 + Math.max(...systems.map((s) => s.length)) * 6.6;
  const barWidth = 220;
  const valueWidth = 60;
  const panelWidth = labelWidth + barWidth + valueWidth;
  const panelHeight = 22 + systems.length * (barHeight + gap);
  const columns = Math.min(3, Math.max(1, metrics.length));
  const rows = Math.ceil(metrics.length / columns);
  const top = options.subtitle === undefined ? 34 : 52;
  const width = columns * panelWidth + 16;
  const height = top + rows * (panelHeight + 12);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(width)}" height="${height}" viewBox="0 0 ${Math.round(width)} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escape(`${result.suite}: ${result.description}`.slice(0, 140))}</text>`,
  ];
  if (options.subtitle !== undefined) out.push(`<text x="8" y="38" fill="#4b5563">${escape(options.subtitle)}</text>`);
  metrics.forEach((metric, m) => {
    const x0 = 8 + (m % columns) * panelWidth;
    const y0 = top + Math.floor(m / columns) * (panelHeight + 12);
    const values = result.rows.map((row) => row.metrics[metric]);
    const max = Math.max(...values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)), Number.MIN_VALUE);
    out.push(`<text x="${x0}" y="${y0 + 12}" font-weight="bold">${escape(metric)}</text>`);
    values.forEach((value, s) => {
      const y = y0 + 20 + s * (barHeight + gap);
      out.push(`<text x="${x0 + labelWidth - 6}" y="${y + barHeight - 3}" text-anchor="end">${escape(systems[s]!)}</text>`);
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      const w = Math.max(1, (Math.max(0, value) / max) * barWidth);
      out.push(`<rect x="${x0 + labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${PALETTE[s % PALETTE.length]}"/>`);
      out.push(`<text x="${(x0 + labelWidth + w + 4).toFixed(1)}" y="${y + barHeight - 3}">${label(value)}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
