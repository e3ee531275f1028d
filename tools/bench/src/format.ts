import type { SuiteResult } from './suite';

/** One suite as an aligned text table, with its description above and notes below. */
export function formatSuite(result: SuiteResult): string {
  const columns = [...new Set(result.rows.flatMap((row) => Object.keys(row.metrics)))];
  const header = ['system', ...columns];
  const cells = result.rows.map((row) => [row.system, ...columns.map((c) => show(row.metrics[c]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  const out = [`## ${result.suite}: ${result.description}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  for (const note of result.notes ?? []) out.push(`  ${note}`);
  return out.join('\n');
}

/** One suite as a Markdown table (for the README). */
export function formatMarkdown(result: SuiteResult): string {
  const columns = [...new Set(result.rows.flatMap((row) => Object.keys(row.metrics)))];
  const out = [`| system | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`];
  for (const row of result.rows) out.push(`| ${row.system} | ${columns.map((c) => show(row.metrics[c])).join(' | ')} |`);
  return out.join('\n');
}

function show(value: number | string | undefined): string {
  if (value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? Math.round(value).toString() : Number(value.toPrecision(3)).toString();
}
