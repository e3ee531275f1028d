import { describe, expect, it } from 'vitest';
import { suiteChart } from './chart';
import type { SuiteResult } from './suite';

const result: SuiteResult = {
  suite: 'throughput',
  description: 'short corpus <1,500 texts> & more',
  rows: [
    { system: 'embedder fp32', metrics: { short_emb_per_s: 416, p50_ms_32: 67.6, note: 'x' } },
    { system: 'transformers.js fp32', metrics: { short_emb_per_s: 208, p50_ms_32: 90 } },
  ],
};

describe('suiteChart', () => {
  it('draws one panel per numeric metric, bars scaled to the largest value, values written beside them', () => {
    const svg = suiteChart(result, { subtitle: '2 x AMD EPYC' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // Text is escaped; the string metric gets no panel.
    expect(svg).toContain('short corpus &lt;1,500 texts&gt; &amp; more');
    expect(svg).not.toContain('>note<');
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    // short_emb_per_s: 416 → the full 220 px, 208 → half; p50: 90 → full, 67.6 → 75%.
    expect(widths).toEqual([220, 110, 165.2, 220]);
    expect(svg).toContain('>416<');
    expect(svg).toContain('>67.6<');
    expect(svg).toContain('2 x AMD EPYC');
  });

  it('draws only the metrics asked for, in that order', () => {
    const svg = suiteChart(result, { metrics: ['p50_ms_32'] });
    expect(svg).toContain('>p50_ms_32<');
    expect(svg).not.toContain('>short_emb_per_s<');
  });
});
