import { describe, expect, it } from 'vitest';
import { formatMarkdown, formatSuite } from './format';
import { peakRssMb, percentile, round } from './measure';
import type { SuiteResult } from './suite';

describe('bench measurement helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 0.5)).toBe(5);
    expect(percentile(samples, 0.95)).toBe(10);
    expect(percentile([42], 0.5)).toBe(42);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('reads this process peak RSS from /proc', () => {
    const before = peakRssMb();
    expect(before).toBeGreaterThan(10);
    const ballast = Buffer.alloc(64 * 1024 * 1024, 1);
    expect(peakRssMb()).toBeGreaterThanOrEqual(before);
    expect(ballast[0]).toBe(1);
  });

  it('rounds for display', () => {
    expect(round(1234.56)).toBe(1235);
    expect(round(0.012345)).toBe(0.0123);
  });

  it('prints a suite as an aligned table and as Markdown', () => {
    const result: SuiteResult = {
      suite: 'demo',
      description: 'two systems',
      rows: [
        { system: 'a', metrics: { emb_per_s: 1234.5, dtype: 'fp32' } },
        { system: 'longer name', metrics: { emb_per_s: 12.345 } },
      ],
      notes: ['PASS something'],
    };
    const text = formatSuite(result).split('\n');
    expect(text[0]).toBe('## demo: two systems');
    expect(text[1]).toMatch(/^system\s+emb_per_s\s+dtype$/);
    expect(text[3]).toMatch(/^a\s+1235\s+fp32$/);
    expect(text[4]).toMatch(/^longer name\s+12\.3\s+-$/);
    expect(text[5]).toBe('  PASS something');
    expect(formatMarkdown(result)).toContain('| longer name | 12.3 | - |');
  });
});
