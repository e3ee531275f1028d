import { loadMiniLmReference } from '@embedder-rag/test-fixtures';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosineSimilarity, dequantizeInt8, hammingDistance, quantizeBinary, quantizeInt8 } from './index';

const vec = fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 50 }).map((a) => Float32Array.from(a));

describe('int8 quantisation', () => {
  it('round-trips within half a step, both modes (property)', () => {
    fc.assert(
      fc.property(vec, fc.constantFrom('symmetric' as const, 'asymmetric' as const), (v, mode) => {
        const q = quantizeInt8(v, { mode });
        const back = dequantizeInt8(q);
        for (let i = 0; i < v.length; i++) expect(Math.abs(back[i]! - v[i]!)).toBeLessThanOrEqual(q.scale / 2 + 1e-4 * (1 + Math.abs(v[i]!)));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps real MiniLM similarities within 0.01', () => {
    const vectors = loadMiniLmReference()
      .slice(0, 20)
      .map((r) => Float32Array.from(r.embedding));
    for (let i = 1; i < vectors.length; i++) {
      const a = dequantizeInt8(quantizeInt8(vectors[0]!));
      const b = dequantizeInt8(quantizeInt8(vectors[i]!));
      expect(Math.abs(cosineSimilarity(a, b) - cosineSimilarity(vectors[0]!, vectors[i]!))).toBeLessThan(0.01);
    }
  });

  it('maps a zero vector to zeros and rejects bad input', () => {
    expect(dequantizeInt8(quantizeInt8(new Float32Array(4)))).toEqual(new Float32Array(4));
    expect(() => quantizeInt8(Float32Array.from([1, NaN]))).toThrow(/v\[1\] is NaN/);
    expect(() => dequantizeInt8({ values: Int8Array.from([1]), scale: 0 })).toThrow(/q.scale/);
  });
});

describe('binary quantisation and Hamming distance', () => {
  it('packs sign bits most significant first', () => {
    const v = Float32Array.from([1, -1, 0, 2, -3, 4, 5, -6, 7]);
    expect(Array.from(quantizeBinary(v))).toEqual([0b10010110, 0b10000000]);
  });

  it('counts the dimensions whose signs differ (property)', () => {
    fc.assert(
      fc.property(vec, vec, (a, b) => {
        const n = Math.min(a.length, b.length);
        const x = a.subarray(0, n);
        const y = b.subarray(0, n);
        let expected = 0;
        for (let i = 0; i < n; i++) if (x[i]! > 0 !== y[i]! > 0) expected++;
        expect(hammingDistance(quantizeBinary(x), quantizeBinary(y))).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects different lengths with DIMENSION_MISMATCH', () => {
    expect(() => hammingDistance(new Uint8Array(2), new Uint8Array(3))).toThrow(expect.objectContaining({ code: 'DIMENSION_MISMATCH' }));
    expect(() => hammingDistance(new Uint8Array(0), new Uint8Array(0))).toThrow(/a must be a non-empty Uint8Array/);
  });
});
