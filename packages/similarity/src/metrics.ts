import { EmbedderError, l2NormalizeRows } from '@embedder-rag/core';
import { cosineFrom, dotAt, manhattanAt, squaredDistanceAt } from './kernels';
import { assertFinite, assertSameDimension, assertVector } from './validate';

/** The metrics findTopK and batchScores rank by. cosine and dot: higher is better; euclidean and manhattan: lower. */
export type Metric = 'cosine' | 'dot' | 'euclidean' | 'manhattan';

/** Validates a pair of vectors of equal, non-zero length. */
function checkPair(a: Float32Array, b: Float32Array): void {
  assertVector(a, 'a');
  assertVector(b, 'b');
  assertSameDimension(a, 'a', b, 'b');
}

/** A non-finite result can only come from a non-finite input: name it. */
function finiteOrThrow(result: number, a: Float32Array, b: Float32Array): number {
  if (Number.isFinite(result)) return result;
  assertFinite(a, 'a');
  assertFinite(b, 'b');
  throw new EmbedderError('INVALID_INPUT', `the result is ${result} although both vectors are finite`);
}

/** Euclidean (L2) norm of `v`. */
export function l2Norm(v: Float32Array): number {
  assertVector(v, 'v');
  const n = Math.sqrt(dotAt(v, 0, v, 0, v.length));
  if (!Number.isFinite(n)) assertFinite(v, 'v');
  return n;
}

/** Cosine similarity in [-1, 1] (float32 precision); 0 when either vector is all zeros. O(d). */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  checkPair(a, b);
  const d = a.length;
  const dot = dotAt(a, 0, b, 0, d);
  const na = Math.sqrt(dotAt(a, 0, a, 0, d));
  const nb = Math.sqrt(dotAt(b, 0, b, 0, d));
  finiteOrThrow(dot + na + nb, a, b);
  return cosineFrom(dot, na, nb);
}

/** Dot product Σ aᵢbᵢ (float32 precision). O(d). */
export function dotProduct(a: Float32Array, b: Float32Array): number {
  checkPair(a, b);
  return Math.fround(finiteOrThrow(dotAt(a, 0, b, 0, a.length), a, b));
}

/** Euclidean distance √Σ(aᵢ − bᵢ)² (float32 precision), ≥ 0. O(d). */
export function euclideanDistance(a: Float32Array, b: Float32Array): number {
  checkPair(a, b);
  return Math.fround(Math.sqrt(finiteOrThrow(squaredDistanceAt(a, 0, b, 0, a.length), a, b)));
}

/** Manhattan (L1) distance Σ|aᵢ − bᵢ| (float32 precision), ≥ 0. O(d). */
export function manhattanDistance(a: Float32Array, b: Float32Array): number {
  checkPair(a, b);
  return Math.fround(finiteOrThrow(manhattanAt(a, 0, b, 0, a.length), a, b));
}

/**
 * L2-normalises `v` in place (a zero vector stays zero, as torch's normalize leaves it) and returns it.
 * Uses core's l2NormalizeRows, the same arithmetic as the embedder's own normalisation. O(d).
 */
export function normalizeL2InPlace(v: Float32Array): Float32Array {
  assertVector(v, 'v');
  assertFinite(v, 'v');
  return l2NormalizeRows(v, v.length);
}

/** A new, L2-normalised copy of `v` (a zero vector gives zeros); `v` is left as it is. O(d). */
export function normalizeL2(v: Float32Array): Float32Array {
  assertVector(v, 'v');
  return normalizeL2InPlace(Float32Array.from(v));
}
