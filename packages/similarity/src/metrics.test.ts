import { isEmbedderError } from '@embedder-rag/core';
import { cosine, loadMiniLmReference } from '@embedder-rag/test-fixtures';
import { describe, expect, it } from 'vitest';
import {
  batchCosineSimilarity,
  batchScores,
  cosineSimilarity,
  dotProduct,
  euclideanDistance,
  findTopK,
  l2Norm,
  manhattanDistance,
  normalizeL2,
  normalizeL2InPlace,
  toMatrix,
} from './index';

const f = (values: number[]) => Float32Array.from(values);

/** Runs `fn` and returns the EmbedderError it throws (fails the test if it throws anything else or nothing). */
function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(isEmbedderError(error)).toBe(true);
    return error as { code: string; message: string };
  }
  throw new Error('expected an EmbedderError, nothing was thrown');
}

describe('pairwise metrics', () => {
  it('gives the textbook values', () => {
    expect(cosineSimilarity(f([1, 0]), f([0, 1]))).toBe(0);
    expect(cosineSimilarity(f([1, 2, 3]), f([2, 4, 6]))).toBe(1);
    expect(cosineSimilarity(f([1, 2, 3]), f([-1, -2, -3]))).toBe(-1);
    expect(dotProduct(f([1, 2, 3]), f([4, 5, 6]))).toBe(32);
    expect(euclideanDistance(f([0, 0]), f([3, 4]))).toBe(5);
    expect(manhattanDistance(f([1, -1]), f([-2, 3]))).toBe(7);
    expect(l2Norm(f([3, 4]))).toBe(5);
  });

  it('matches a float64 reference on the real MiniLM vectors', () => {
    const rows = loadMiniLmReference().slice(0, 40);
    const vectors = rows.map((r) => Float32Array.from(r.embedding));
    for (let i = 1; i < vectors.length; i++) {
      expect(cosineSimilarity(vectors[0]!, vectors[i]!)).toBeCloseTo(cosine(vectors[0]!, vectors[i]!), 6);
    }
    // sentence-transformers normalises all-MiniLM-L6-v2 output: norm 1, cosine = dot.
    expect(l2Norm(vectors[3]!)).toBeCloseTo(1, 5);
    expect(dotProduct(vectors[3]!, vectors[4]!)).toBeCloseTo(cosineSimilarity(vectors[3]!, vectors[4]!), 5);
  });

  it('gives a zero vector a cosine of 0, never NaN', () => {
    expect(cosineSimilarity(f([0, 0, 0]), f([1, 2, 3]))).toBe(0);
    expect(batchCosineSimilarity(f([1, 2]), [f([0, 0]), f([1, 2])])).toEqual(f([0, 1]));
  });

  it('scores identically pairwise, in a batch of arrays and on a matrix', () => {
    const vectors = loadMiniLmReference()
      .slice(0, 30)
      .map((r) => Float32Array.from(r.embedding));
    const query = vectors[5]!;
    const matrix = toMatrix(vectors);
    for (const metric of ['cosine', 'dot', 'euclidean', 'manhattan'] as const) {
      const pairwise = { cosine: cosineSimilarity, dot: dotProduct, euclidean: euclideanDistance, manhattan: manhattanDistance }[metric];
      const expected = Float32Array.from(vectors.map((v) => pairwise(query, v)));
      expect(batchScores(query, vectors, metric)).toEqual(expected);
      expect(batchScores(query, matrix, metric)).toEqual(expected);
      expect(batchScores(query, { data: matrix.data, rows: matrix.rows, dimension: matrix.dimension }, metric)).toEqual(expected);
    }
  });

  it('normalises to unit length without touching the input, reusing core (zero stays zero)', () => {
    const v = f([3, 4]);
    expect(normalizeL2(v)).toEqual(f([0.6, 0.8]));
    expect(v).toEqual(f([3, 4]));
    expect(normalizeL2InPlace(v)).toBe(v);
    expect(v).toEqual(f([0.6, 0.8]));
    expect(normalizeL2(f([0, 0]))).toEqual(f([0, 0]));
  });
});

describe('validation', () => {
  it('rejects dimension mismatches with DIMENSION_MISMATCH naming both sides', () => {
    const e = thrown(() => cosineSimilarity(f([1, 2]), f([1, 2, 3])));
    expect(e.code).toBe('DIMENSION_MISMATCH');
    expect(e.message).toContain('a has 2 dimensions but b has 3');
    expect(thrown(() => batchCosineSimilarity(f([1, 2]), [f([1, 2]), f([1])])).message).toContain('candidates[1]');
    expect(thrown(() => findTopK(f([1, 2]), { data: f([1, 2, 3]), rows: 1, dimension: 3 }, 1)).code).toBe('DIMENSION_MISMATCH');
    expect(thrown(() => findTopK(f([1, 2]), { data: f([1, 2, 3]), rows: 2, dimension: 2 }, 1)).message).toContain('candidates.data has 3 values');
  });

  it('rejects empty input and non-Float32Array arguments with INVALID_INPUT', () => {
    expect(thrown(() => cosineSimilarity(f([]), f([]))).code).toBe('INVALID_INPUT');
    expect(thrown(() => dotProduct([1, 2] as unknown as Float32Array, f([1, 2]))).message).toContain('a must be a Float32Array, got Array');
    expect(thrown(() => batchCosineSimilarity(f([1]), [])).message).toContain('candidates is empty');
    expect(thrown(() => toMatrix([])).code).toBe('INVALID_INPUT');
  });

  it('rejects NaN and Infinity wherever they are, naming the argument and position', () => {
    const e = thrown(() => cosineSimilarity(f([1, NaN]), f([1, 2])));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('a[1] is NaN');
    expect(thrown(() => euclideanDistance(f([1, 2]), f([Infinity, 2]))).message).toContain('b[0] is Infinity');
    expect(thrown(() => manhattanDistance(f([1, 2]), f([1, -Infinity]))).message).toContain('b[1]');
    expect(thrown(() => normalizeL2(f([NaN]))).message).toContain('v[0] is NaN');
    expect(thrown(() => findTopK(f([NaN, 1]), [f([1, 1])], 1)).message).toContain('query[0]');
    for (const metric of ['cosine', 'dot', 'euclidean', 'manhattan'] as const) {
      // An Infinity against a zero query value (0·∞ = NaN) and against a non-zero one.
      for (const query of [f([0, 1]), f([1, 1])]) {
        const bad = [f([1, 1]), f([Infinity, 1])];
        expect(thrown(() => findTopK(query, bad, 1, { metric })).message).toContain('candidates[1][0] is Infinity');
        const matrix = { data: f([1, 1, 1, 1, 1, NaN]), rows: 3, dimension: 2 };
        expect(thrown(() => batchScores(query, matrix, metric)).message).toContain('candidates row 2');
        expect(() => findTopK(query, toMatrix([f([1, 1]), f([1, NaN])]), 1, { metric })).toThrow(/vectors\[1\]\[1\] is NaN/);
      }
    }
  });

  it('rejects k <= 0, k > n and fractional k', () => {
    const c = [f([1, 0]), f([0, 1])];
    for (const k of [0, -1, 3, 1.5, NaN]) {
      const e = thrown(() => findTopK(f([1, 1]), c, k));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain('k must be a whole number from 1 to the number of candidates (2)');
    }
    expect(thrown(() => findTopK(f([1, 1]), c, 1, { metric: 'jaccard' as 'dot' })).message).toContain('metric must be one of');
  });
});
