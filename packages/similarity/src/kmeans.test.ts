import { isEmbedderError } from '@embedder-rag/core';
import { loadMiniLmReference } from '@embedder-rag/test-fixtures';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kmeans, simpleKmeansClustering, toMatrix } from './index';

const point = (d: number) => fc.array(fc.integer({ min: -4, max: 4 }), { minLength: d, maxLength: d });

const input = fc.integer({ min: 1, max: 6 }).chain((d) =>
  fc.record({
    points: fc.array(point(d), { minLength: 1, maxLength: 40 }),
    kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer(),
  }),
);

describe('kmeans', () => {
  it('is deterministic for a seed and never returns an empty cluster (property)', () => {
    fc.assert(
      fc.property(input, ({ points, kFraction, seed }) => {
        const vectors = points.map((p) => Float32Array.from(p));
        const k = 1 + Math.floor(kFraction * (vectors.length - 1));
        const a = kmeans(vectors, k, { seed, maxIterations: 20 });
        const b = kmeans(toMatrix(vectors), k, { seed, maxIterations: 20 });
        expect(b).toEqual(a);
        const counts = new Array<number>(k).fill(0);
        for (const c of a.assignments) counts[c]!++;
        expect(counts.every((c) => c > 0)).toBe(true);
        expect(a.centroids).toHaveLength(k);
        expect(Number.isFinite(a.inertia)).toBe(true);
        expect(a.iterations).toBeGreaterThanOrEqual(1);
        expect(a.iterations).toBeLessThanOrEqual(20);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every cluster non-empty even when all points coincide', () => {
    const same = Array.from({ length: 5 }, () => Float32Array.from([1, 2]));
    const result = kmeans(same, 5);
    expect(Array.from(result.assignments).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(result.inertia).toBe(0);
  });

  it('recovers well-separated groups and reports their inertia', () => {
    const centres = [
      [0, 0],
      [10, 10],
      [-10, 10],
    ];
    const vectors = centres.flatMap(([x, y]) =>
      [
        [-0.5, 0],
        [0.5, 0],
        [0, 0.5],
        [0, -0.5],
      ].map(([dx, dy]) => Float32Array.from([x! + dx!, y! + dy!])),
    );
    const result = kmeans(vectors, 3, { seed: 7 });
    for (let g = 0; g < 3; g++) {
      const group = new Set(Array.from(result.assignments.subarray(g * 4, g * 4 + 4)));
      expect(group.size).toBe(1);
      const centroid = result.centroids[[...group][0]!]!;
      expect(Array.from(centroid)).toEqual(centres[g]);
    }
    expect(result.inertia).toBeCloseTo(12 * 0.25, 6);
  });

  it('clusters real MiniLM vectors: the seed alias runs and the inertia falls with k', () => {
    const vectors = loadMiniLmReference().map((r) => Float32Array.from(r.embedding));
    const few = simpleKmeansClustering(vectors, 2, 50);
    const many = kmeans(vectors, 12, { seed: 3 });
    expect(many.inertia).toBeLessThan(few.inertia);
    expect(new Set(many.assignments).size).toBe(12);
  });

  it('rejects bad k, iterations, tolerance and non-finite vectors with INVALID_INPUT', () => {
    const vectors = [Float32Array.from([1]), Float32Array.from([2])];
    const cases: [() => unknown, RegExp][] = [
      [() => kmeans(vectors, 0), /k must be a whole number from 1 to the number of vectors \(2\)/],
      [() => kmeans(vectors, 3), /got 3/],
      [() => kmeans(vectors, 1, { maxIterations: 0 }), /maxIterations/],
      [() => kmeans(vectors, 1, { tolerance: -1 }), /tolerance/],
      [() => kmeans([Float32Array.from([NaN])], 1), /vectors\[0\]\[0\] is NaN/],
      [() => kmeans([], 1), /non-empty/],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(message);
      try {
        run();
      } catch (error) {
        expect(isEmbedderError(error, 'INVALID_INPUT')).toBe(true);
      }
    }
  });
});
