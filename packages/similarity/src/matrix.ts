import { EmbedderError } from '@embedder-rag/core';
import { normRows } from './kernels';
import { assertFinite, assertSameDimension, assertVector } from './validate';

/**
 * Vectors stored contiguously, row-major: row r is `data[r * dimension, (r + 1) * dimension)`. The fast form for
 * batch scoring: one allocation, sequential memory. `norms` (one L2 norm per row) lets cosine skip a pass per
 * query; {@link toMatrix} fills it. If you change `data` afterwards, drop or recompute `norms` ({@link withNorms}).
 */
export interface VectorMatrix {
  data: Float32Array;
  rows: number;
  dimension: number;
  /** L2 norm of each row, length `rows`; optional. */
  norms?: Float64Array;
}

/** Candidates of a batch operation: separate vectors, or one {@link VectorMatrix}. */
export type Candidates = readonly Float32Array[] | VectorMatrix;

/** Copies equal-length vectors into one {@link VectorMatrix} with row norms precomputed. O(n·d). */
export function toMatrix(vectors: readonly Float32Array[]): VectorMatrix {
  if (!Array.isArray(vectors) || vectors.length === 0) {
    throw new EmbedderError('INVALID_INPUT', 'vectors must be a non-empty array of Float32Array');
  }
  const first = vectors[0]!;
  assertVector(first, 'vectors[0]');
  const dimension = first.length;
  const data = new Float32Array(vectors.length * dimension);
  vectors.forEach((v, r) => {
    assertVector(v, `vectors[${r}]`);
    assertSameDimension(first, 'vectors[0]', v, `vectors[${r}]`);
    assertFinite(v, `vectors[${r}]`);
    data.set(v, r * dimension);
  });
  return withNorms({ data, rows: vectors.length, dimension });
}

/** The same matrix with `norms` (re)computed from `data`. O(n·d). */
export function withNorms(matrix: VectorMatrix): VectorMatrix {
  checkMatrix(matrix, 'matrix');
  const { data, rows, dimension } = matrix;
  const norms = new Float64Array(rows);
  normRows(data, rows, dimension, norms);
  return { data, rows, dimension, norms };
}

/** True when `c` is a {@link VectorMatrix} rather than an array of vectors. */
export function isMatrix(c: Candidates): c is VectorMatrix {
  return !Array.isArray(c);
}

/** Validates the shape of a matrix (not its values: non-finite values surface as non-finite scores). */
export function checkMatrix(m: VectorMatrix, name: string): void {
  if (typeof m !== 'object' || m === null || !(m.data instanceof Float32Array)) {
    throw new EmbedderError('INVALID_INPUT', `${name} must be a Float32Array[] or a VectorMatrix { data: Float32Array; rows; dimension }`);
  }
  const { data, rows, dimension } = m;
  if (!Number.isInteger(rows) || !Number.isInteger(dimension) || rows < 1 || dimension < 1) {
    throw new EmbedderError('INVALID_INPUT', `${name} must have at least one row and one dimension, got ${rows}x${dimension}`);
  }
  if (data.length !== rows * dimension) {
    throw new EmbedderError('DIMENSION_MISMATCH', `${name}.data has ${data.length} values, expected rows x dimension = ${rows}x${dimension}`);
  }
  if (m.norms !== undefined && m.norms.length !== rows) {
    throw new EmbedderError('DIMENSION_MISMATCH', `${name}.norms has ${m.norms.length} values, expected one per row (${rows})`);
  }
}

/** Number of candidates, after validating them against a query of `dimension`. */
export function checkCandidates(candidates: Candidates, dimension: number): number {
  if (isMatrix(candidates)) {
    checkMatrix(candidates, 'candidates');
    if (candidates.dimension !== dimension) {
      throw new EmbedderError('DIMENSION_MISMATCH', `query has ${dimension} dimensions but candidates has ${candidates.dimension}`);
    }
    return candidates.rows;
  }
  if (candidates.length === 0) throw new EmbedderError('INVALID_INPUT', 'candidates is empty');
  candidates.forEach((c, i) => {
    assertVector(c, `candidates[${i}]`);
    if (c.length !== dimension) {
      throw new EmbedderError('DIMENSION_MISMATCH', `query has ${dimension} dimensions but candidates[${i}] has ${c.length}`);
    }
  });
  return candidates.length;
}
