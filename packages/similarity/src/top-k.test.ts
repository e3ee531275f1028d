import { loadMiniLmReference } from '@embedder-rag/test-fixtures';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchScores, cosineSimilarity, findTopK, toMatrix, type Metric } from './index';

const METRICS: Metric[] = ['cosine', 'dot', 'euclidean', 'manhattan'];

/** Float32-representable values in a range, with repeats likely (so ties happen). */
const value = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.float({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }));

const problem = fc.integer({ min: 1, max: 12 }).chain((d) =>
  fc.record({
    query: fc.array(value, { minLength: d, maxLength: d }),
    rows: fc.array(fc.array(value, { minLength: d, maxLength: d }), { minLength: 1, maxLength: 60 }),
    kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    metric: fc.constantFrom(...METRICS),
  }),
);

/** The obvious answer: score everything, sort everything (best first, ties by index), take k. */
function fullSort(scores: Float32Array, metric: Metric, k: number): number[] {
  const sign = metric === 'cosine' || metric === 'dot' ? 1 : -1;
  return Array.from(scores.keys())
    .sort((a, b) => sign * (scores[b]! - scores[a]!) || a - b)
    .slice(0, k);
}

describe('findTopK', () => {
  it('equals a full sort, for every metric, on arrays and matrices (property)', () => {
    fc.assert(
      fc.property(problem, ({ query, rows, kFraction, metric }) => {
        const q = Float32Array.from(query);
        const vectors = rows.map((r) => Float32Array.from(r));
        const k = 1 + Math.floor(kFraction * (vectors.length - 1));
        const scores = batchScores(q, vectors, metric);
        const expected = fullSort(scores, metric, k);
        for (const candidates of [vectors, toMatrix(vectors)]) {
          const top = findTopK(q, candidates, k, { metric });
          expect(top.map((t) => t.index)).toEqual(expected);
          expect(top.map((t) => t.score)).toEqual(expected.map((i) => scores[i]!));
          for (const t of top) expect(Number.isNaN(t.score)).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('breaks ties by index', () => {
    const same = Float32Array.from([1, 0]);
    const candidates = [Float32Array.from([0, 1]), same, same, Float32Array.from([2, 0]), same];
    expect(findTopK(same, candidates, 4).map((t) => t.index)).toEqual([1, 2, 3, 4]);
    expect(findTopK(same, candidates, 2, { metric: 'euclidean' }).map((t) => t.index)).toEqual([1, 2]);
  });

  it('finds the nearest real MiniLM sentences: a vector is its own best match', () => {
    const vectors = loadMiniLmReference().map((r) => Float32Array.from(r.embedding));
    const matrix = toMatrix(vectors);
    for (const i of [0, 17, 101, vectors.length - 1]) {
      const top = findTopK(vectors[i]!, matrix, 5);
      const own = top.find((t) => t.index === i);
      expect(own?.score).toBeCloseTo(1, 6);
      expect(top[1]!.score).toBeLessThanOrEqual(top[0]!.score);
      expect(top[1]!.score).toBe(cosineSimilarity(vectors[i]!, vectors[top[1]!.index]!));
    }
  });
});

describe('cosine properties', () => {
  it('cosine of a non-zero vector with itself is 1 within 1e-6, and always in [-1, 1]', () => {
    const vec = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 64 });
    fc.assert(
      fc.property(vec, vec, (a, b) => {
        const v = Float32Array.from(a);
        if (v.some((x) => x !== 0)) expect(Math.abs(cosineSimilarity(v, v) - 1)).toBeLessThanOrEqual(1e-6);
        const w = Float32Array.from(b.slice(0, v.length).concat(a.slice(b.length)));
        const c = cosineSimilarity(v, w);
        expect(c).toBeGreaterThanOrEqual(-1);
        expect(c).toBeLessThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });
});
