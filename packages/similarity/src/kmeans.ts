import { EmbedderError, mulberry32 } from '@embedder-rag/core';
import { checkMatrix, isMatrix, toMatrix, type Candidates } from './matrix';
import { assertFinite, assertK } from './validate';

/** Options of {@link kmeans}. */
export interface KMeansOptions {
  /** Seed of the k-means++ sampling; the same seed and input give the same result. @default 42 */
  seed?: number;
  /** Upper bound on Lloyd iterations. @default 100 */
  maxIterations?: number;
  /** Stop once no centroid moves farther than this (Euclidean distance, in vector units). @default 1e-4 */
  tolerance?: number;
}

/** Result of {@link kmeans}. */
export interface KMeansResult {
  /** Cluster of each input vector, 0 ≤ value < k; every cluster has at least one member. */
  assignments: Int32Array;
  /** Mean of each cluster's members. */
  centroids: Float32Array[];
  /** Lloyd iterations run (1 ≤ iterations ≤ maxIterations). */
  iterations: number;
  /** Σ squared Euclidean distance of each vector to its centroid. */
  inertia: number;
}

/**
 * k-means (Lloyd) with k-means++ seeding from a seeded PRNG. Ties go to the lower cluster index; a cluster left
 * empty takes the member farthest from its centroid out of a cluster with more than one, so no cluster is ever
 * empty (k ≤ n guarantees one exists). O(iterations · n · k · d).
 */
export function kmeans(vectors: Candidates, k: number, options: KMeansOptions = {}): KMeansResult {
  const { seed = 42, maxIterations = 100, tolerance = 1e-4 } = options;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new EmbedderError('INVALID_INPUT', `maxIterations must be a whole number of at least 1, got ${maxIterations}`);
  }
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new EmbedderError('INVALID_INPUT', `tolerance must be a finite number of at least 0, got ${tolerance}`);
  }
  if (!Number.isFinite(seed)) throw new EmbedderError('INVALID_INPUT', `seed must be a finite number, got ${seed}`);
  let matrix;
  if (isMatrix(vectors)) {
    checkMatrix(vectors, 'vectors');
    assertFinite(vectors.data, 'vectors.data');
    matrix = vectors;
  } else {
    matrix = toMatrix(vectors);
  }
  const { data, rows: n, dimension: d } = matrix;
  assertK(k, n, 'vectors');

  const random = mulberry32(seed);
  const centroids = seedPlusPlus(data, n, d, k, random);
  const assignments = new Int32Array(n);
  const distances = new Float64Array(n);
  const counts = new Int32Array(k);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    assign(data, n, d, centroids, k, assignments, distances);
    fillEmptyClusters(assignments, distances, counts, k);
    const moved = updateCentroids(data, n, d, assignments, counts, centroids);
    if (moved <= tolerance) break;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += squaredDistance(data, i * d, centroids, assignments[i]! * d, d);
  const out: Float32Array[] = [];
  for (let c = 0; c < k; c++) out.push(Float32Array.from(centroids.subarray(c * d, (c + 1) * d)));
  return { assignments, centroids: out, iterations, inertia };
}

/** The seed's simple_kmeans_clustering(vectors, k, max_iterations): {@link kmeans} with the default seed. */
export function simpleKmeansClustering(vectors: Candidates, k: number, maxIterations = 100): KMeansResult {
  return kmeans(vectors, k, { maxIterations });
}

function squaredDistance(data: Float32Array, off: number, centroids: Float64Array, cOff: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = data[off + j]! - centroids[cOff + j]!;
    s += x * x;
  }
  return s;
}

/** k-means++: each next centre is drawn with probability proportional to its squared distance to the nearest. */
function seedPlusPlus(data: Float32Array, n: number, d: number, k: number, random: () => number): Float64Array {
  const centroids = new Float64Array(k * d);
  const nearest = new Float64Array(n).fill(Infinity);
  const chosen = new Uint8Array(n);
  let pick = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    chosen[pick] = 1;
    for (let j = 0; j < d; j++) centroids[c * d + j] = data[pick * d + j]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dist = squaredDistance(data, i * d, centroids, c * d, d);
      if (dist < nearest[i]!) nearest[i] = dist;
      total += nearest[i]!;
    }
    if (c + 1 === k) break;
    pick = total > 0 ? sampleByWeight(nearest, total, random) : sampleUnchosen(chosen, n, random);
  }
  return centroids;
}

function sampleByWeight(weights: Float64Array, total: number, random: () => number): number {
  let target = random() * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i]! <= 0) continue;
    last = i;
    target -= weights[i]!;
    if (target < 0) return i;
  }
  return last;
}

/** All points coincide with a centre: any point not yet chosen (k ≤ n guarantees one). */
function sampleUnchosen(chosen: Uint8Array, n: number, random: () => number): number {
  const start = Math.floor(random() * n);
  for (let step = 0; step < n; step++) {
    const i = (start + step) % n;
    if (chosen[i] === 0) return i;
  }
  return start;
}

/** Nearest centroid of each point (ties to the lower index); four centroids per pass over the point. */
function assign(data: Float32Array, n: number, d: number, centroids: Float64Array, k: number, assignments: Int32Array, distances: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let best = 0;
    let bestDist = Infinity;
    let c = 0;
    for (; c + 4 <= k; c += 4) {
      const c0 = c * d;
      const c1 = c0 + d;
      const c2 = c1 + d;
      const c3 = c2 + d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < d; j++) {
        const x = data[off + j]!;
        const e0 = x - centroids[c0 + j]!;
        const e1 = x - centroids[c1 + j]!;
        const e2 = x - centroids[c2 + j]!;
        const e3 = x - centroids[c3 + j]!;
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
      }
      if (s0 < bestDist) {
        bestDist = s0;
        best = c;
      }
      if (s1 < bestDist) {
        bestDist = s1;
        best = c + 1;
      }
      if (s2 < bestDist) {
        bestDist = s2;
        best = c + 2;
      }
      if (s3 < bestDist) {
        bestDist = s3;
        best = c + 3;
      }
    }
    for (; c < k; c++) {
      const dist = squaredDistance(data, off, centroids, c * d, d);
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    assignments[i] = best;
    distances[i] = bestDist;
  }
}

/** Gives each empty cluster the point farthest from its centroid among clusters with more than one member. */
function fillEmptyClusters(assignments: Int32Array, distances: Float64Array, counts: Int32Array, k: number): void {
  counts.fill(0);
  for (const c of assignments) counts[c]!++;
  for (let c = 0; c < k; c++) {
    if (counts[c]! > 0) continue;
    let far = -1;
    for (let i = 0; i < assignments.length; i++) {
      if (counts[assignments[i]!]! > 1 && (far < 0 || distances[i]! > distances[far]!)) far = i;
    }
    counts[assignments[far]!]!--;
    assignments[far] = c;
    distances[far] = 0;
    counts[c] = 1;
  }
}

/** Moves each centroid to the mean of its members; returns the largest move (Euclidean). */
function updateCentroids(data: Float32Array, n: number, d: number, assignments: Int32Array, counts: Int32Array, centroids: Float64Array): number {
  const sums = new Float64Array(centroids.length);
  for (let i = 0; i < n; i++) {
    const off = assignments[i]! * d;
    for (let j = 0; j < d; j++) sums[off + j]! += data[i * d + j]!;
  }
  let moved = 0;
  for (let c = 0; c < counts.length; c++) {
    let shift = 0;
    for (let j = 0; j < d; j++) {
      const mean = sums[c * d + j]! / counts[c]!;
      const delta = mean - centroids[c * d + j]!;
      shift += delta * delta;
      centroids[c * d + j] = mean;
    }
    moved = Math.max(moved, Math.sqrt(shift));
  }
  return moved;
}
