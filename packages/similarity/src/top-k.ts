import { checkQuery, higherIsBetter, scoreInto } from './batch';
import type { Candidates } from './matrix';
import type { Metric } from './metrics';
import { assertK } from './validate';

/** One result of {@link findTopK}: the candidate's position and its score under the metric. */
export interface ScoredIndex {
  index: number;
  score: number;
}

/** Options of {@link findTopK}. */
export interface TopKOptions {
  /** @default 'cosine' (cosine and dot rank high first; euclidean and manhattan rank low first) */
  metric?: Metric;
}

/**
 * The `k` best candidates for `query`, best first; equal scores are ordered by index (lower first).
 * Scores every candidate once (O(n·d)) and keeps a bounded heap of k (O(n log k)).
 */
export function findTopK(query: Float32Array, candidates: Candidates, k: number, options: TopKOptions = {}): ScoredIndex[] {
  const metric = options.metric ?? 'cosine';
  const n = checkQuery(query, candidates, metric);
  assertK(k, n, 'candidates');
  const scores = new Float64Array(n);
  scoreInto(query, candidates, metric, scores);
  const sign = higherIsBetter(metric) ? 1 : -1;
  return selectTopK(scores, k, sign).map((index) => ({ index, score: scores[index]! }));
}

/**
 * Indices of the k highest `sign * scores[i]`, best first, ties by lower index. A min-heap whose root is the worst
 * kept entry; candidates arrive in index order, so one that only equals the root is worse and is skipped.
 */
export function selectTopK(scores: Float64Array, k: number, sign: number): number[] {
  const heapG = new Float64Array(k);
  const heapI = new Int32Array(k);
  let size = 0;
  for (let i = 0; i < scores.length; i++) {
    const g = sign * scores[i]!;
    if (size < k) {
      // Sift up while the new entry is worse than its parent; it has the highest index so far, so an equal g
      // makes it the worse one.
      let pos = size++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (heapG[parent]! < g) break;
        heapG[pos] = heapG[parent]!;
        heapI[pos] = heapI[parent]!;
        pos = parent;
      }
      heapG[pos] = g;
      heapI[pos] = i;
    } else if (g > heapG[0]!) {
      siftDown(heapG, heapI, k, g, i);
    }
  }
  const order = Array.from(heapI.subarray(0, size));
  return order.sort((a, b) => sign * scores[b]! - sign * scores[a]! || a - b);
}

/** Worse = lower g, or equal g and higher index. Replaces the root with (g, i) and restores the heap. */
function siftDown(heapG: Float64Array, heapI: Int32Array, size: number, g: number, i: number): void {
  let pos = 0;
  for (;;) {
    const left = 2 * pos + 1;
    if (left >= size) break;
    const right = left + 1;
    let child = left;
    if (right < size && worse(heapG[right]!, heapI[right]!, heapG[left]!, heapI[left]!)) child = right;
    if (!worse(heapG[child]!, heapI[child]!, g, i)) break;
    heapG[pos] = heapG[child]!;
    heapI[pos] = heapI[child]!;
    pos = child;
  }
  heapG[pos] = g;
  heapI[pos] = i;
}

function worse(gA: number, iA: number, gB: number, iB: number): boolean {
  return gA < gB || (gA === gB && iA > iB);
}
