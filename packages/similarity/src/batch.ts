import { EmbedderError } from '@embedder-rag/core';
import { cosineFrom, dotAt, dotNormRows, dotRows, manhattanAt, squaredDistanceAt } from './kernels';
import { checkCandidates, isMatrix, type Candidates } from './matrix';
import type { Metric } from './metrics';
import { assertFinite, assertVector } from './validate';

const METRICS: readonly Metric[] = ['cosine', 'dot', 'euclidean', 'manhattan'];

/** True for the metrics where a higher score is better (cosine, dot). */
export function higherIsBetter(metric: Metric): boolean {
  return metric === 'cosine' || metric === 'dot';
}

/**
 * Scores of `query` against every candidate under `metric`, written into `out` (values rounded to float32).
 * O(n·d); with a matrix carrying `norms`, cosine costs one dot product per row.
 */
export function scoreInto(query: Float32Array, candidates: Candidates, metric: Metric, out: Float64Array): void {
  const d = query.length;
  if (isMatrix(candidates)) {
    const { data, rows, norms } = candidates;
    if (metric === 'cosine' && norms === undefined) {
      cosineFused(query, () => data, (r) => r * d, rows, d, out);
    } else if (metric === 'cosine' || metric === 'dot') {
      dotRows(query, data, rows, d, out);
      matrixFinish(metric, query, rows, norms, out);
    } else {
      for (let r = 0; r < rows; r++) out[r] = scoreAt(metric, query, data, r * d, d);
    }
  } else if (metric === 'cosine') {
    cosineFused(query, (r) => candidates[r]!, () => 0, candidates.length, d, out);
  } else {
    for (let r = 0; r < candidates.length; r++) out[r] = scoreAt(metric, query, candidates[r]!, 0, d);
  }
  for (let r = 0; r < out.length; r++) {
    if (!Number.isFinite(out[r]!)) failNonFinite(candidates, r, d);
  }
}

/** Cosine without precomputed norms: dot products and row norms in one pass over each row. */
function cosineFused(query: Float32Array, rowAt: (r: number) => Float32Array, offsetAt: (r: number) => number, rows: number, d: number, out: Float64Array): void {
  const norms = new Float64Array(rows);
  dotNormRows(query, rowAt, offsetAt, rows, d, out, norms);
  const qNorm = Math.sqrt(dotAt(query, 0, query, 0, d));
  for (let r = 0; r < rows; r++) out[r] = cosineFrom(out[r]!, qNorm, norms[r]!);
}

/** Turns the dot products in `out` into scores: rounded dots, or cosines with the matrix's row norms. */
function matrixFinish(metric: 'cosine' | 'dot', query: Float32Array, rows: number, norms: Float64Array | undefined, out: Float64Array): void {
  if (metric === 'dot' || norms === undefined) {
    for (let r = 0; r < rows; r++) out[r] = Math.fround(out[r]!);
    return;
  }
  const qNorm = Math.sqrt(dotAt(query, 0, query, 0, query.length));
  for (let r = 0; r < rows; r++) out[r] = cosineFrom(out[r]!, qNorm, norms[r]!);
}

function scoreAt(metric: Metric, q: Float32Array, data: Float32Array, off: number, d: number): number {
  switch (metric) {
    case 'cosine':
      return cosineFrom(dotAt(q, 0, data, off, d), Math.sqrt(dotAt(q, 0, q, 0, d)), Math.sqrt(dotAt(data, off, data, off, d)));
    case 'dot':
      return Math.fround(dotAt(q, 0, data, off, d));
    case 'euclidean':
      return Math.fround(Math.sqrt(squaredDistanceAt(q, 0, data, off, d)));
    case 'manhattan':
      return Math.fround(manhattanAt(q, 0, data, off, d));
  }
}

function failNonFinite(candidates: Candidates, r: number, d: number): never {
  if (isMatrix(candidates)) assertFinite(candidates.data, `candidates row ${r}: candidates.data`, r * d, d);
  else assertFinite(candidates[r]!, `candidates[${r}]`);
  throw new EmbedderError('INVALID_INPUT', `candidates row ${r} gives a non-finite score: its precomputed norm is wrong (use withNorms)`);
}

/** Validates a query and its candidates; returns the number of candidates. */
export function checkQuery(query: Float32Array, candidates: Candidates, metric: Metric): number {
  assertVector(query, 'query');
  assertFinite(query, 'query');
  if (!METRICS.includes(metric)) {
    throw new EmbedderError('INVALID_INPUT', `metric must be one of ${METRICS.join(', ')}, got ${String(metric)}`);
  }
  return checkCandidates(candidates, query.length);
}

/** Scores of `query` against each candidate under `metric` (default cosine), in candidate order. O(n·d). */
export function batchScores(query: Float32Array, candidates: Candidates, metric: Metric = 'cosine'): Float32Array {
  const scores = new Float64Array(checkQuery(query, candidates, metric));
  scoreInto(query, candidates, metric, scores);
  return Float32Array.from(scores);
}

/** Cosine similarity of `query` with each candidate, in candidate order (see cosineSimilarity). O(n·d). */
export function batchCosineSimilarity(query: Float32Array, candidates: Candidates): Float32Array {
  return batchScores(query, candidates, 'cosine');
}
