import { DEFAULT_MAX_PADDING_RATIO } from '@embedder-rag/core';
import type { SchedulableItem } from './types';

/** Padded tokens of a batch: its longest item × its size. */
export function paddedTokens(items: readonly SchedulableItem[]): number {
  let longest = 0;
  for (const item of items) longest = Math.max(longest, item.tokens);
  return longest * items.length;
}

/**
 * How many items, starting at the longest, fit a batch: the budget divided by the longest item, capped by
 * maxBatchSize, and at least 1 (an item over the budget runs alone).
 */
export function batchCapacity(longest: number, maxBatchTokens: number, maxBatchSize: number): number {
  return Math.max(1, Math.min(maxBatchSize, Math.floor(maxBatchTokens / Math.max(1, longest))));
}

/**
 * How many items of `sorted` (longest first) to take from `start`: at most `capacity`, at least 1, and no more
 * than keeps the padded tokens within `maxPaddingRatio` × the real tokens. Concurrent single-text requests arrive
 * in every length; cutting where the length drops keeps the model from computing mostly padding, while a sorted
 * run of similar lengths (one big call) still fills whole batches.
 */
export function paddingBoundedCount(sorted: readonly SchedulableItem[], start: number, capacity: number, maxPaddingRatio: number): number {
  const longest = sorted[start]?.tokens ?? 1;
  let real = 0;
  let count = 0;
  while (count < capacity && start + count < sorted.length) {
    const withNext = real + (sorted[start + count]?.tokens ?? 1);
    if (count > 0 && longest * (count + 1) > withNext * maxPaddingRatio) break;
    real = withNext;
    count++;
  }
  return Math.max(1, count);
}

/**
 * The cheapest way to cut `sorted` (longest first) from `start` into batches, when a batch costs its padded tokens
 * plus `overheadTokens`: what running one more batch costs (the runtime's per-call work, thread hand-offs), counted
 * in padded tokens. Returns, for each position i >= start, the size of the batch that begins at i on the cheapest
 * cutting of sorted[i..] (dynamic programming from the end, O(items × maxBatchSize)); each batch stays within
 * `capacity` and `maxPaddingRatio`. Concurrent single texts of every length then run as dense batches (a batch is
 * cut wherever the padding it would carry costs more than one more batch), and a long sorted run of similar
 * lengths still fills whole batches.
 */
export function cheapestCuts(
  sorted: readonly SchedulableItem[],
  start: number,
  capacity: (longest: number) => number,
  maxPaddingRatio: number,
  overheadTokens: number,
): Int32Array {
  const count = sorted.length;
  const take = new Int32Array(count);
  const cost = new Float64Array(count + 1);
  for (let i = count - 1; i >= start; i--) {
    const longest = sorted[i]!.tokens;
    const most = Math.min(capacity(longest), count - i);
    let real = 0;
    let best = Number.POSITIVE_INFINITY;
    let bestSize = 1;
    for (let size = 1; size <= most; size++) {
      real += sorted[i + size - 1]!.tokens;
      if (size > 1 && longest * size > real * maxPaddingRatio) break;
      const total = overheadTokens + longest * size + cost[i + size]!;
      if (total < best) {
        best = total;
        bestSize = size;
      }
    }
    cost[i] = best;
    take[i] = bestSize;
  }
  return take;
}

/**
 * Sorts by tokens, longest first, keeping arrival order among equals (Array.prototype.sort is stable).
 * Longest first makes the first batch of a window the heaviest, so memory peaks early and predictably.
 */
export function sortByLength<T extends SchedulableItem>(items: T[]): T[] {
  return items.sort((a, b) => b.tokens - a.tokens);
}

/**
 * Cuts items into batches under a token budget after sorting them by length: every batch has at most
 * maxBatchSize items and at most maxBatchTokens padded tokens, except an item over the budget, which is alone.
 * Returns the batches as lists of indices into `items`.
 */
export function planBatches(
  items: readonly SchedulableItem[],
  maxBatchTokens: number,
  maxBatchSize: number,
  maxPaddingRatio = DEFAULT_MAX_PADDING_RATIO,
): number[][] {
  const order = sortByLength(items.map((item, index) => ({ tokens: item.tokens, index })));
  const batches: number[][] = [];
  let start = 0;
  while (start < order.length) {
    const longest = order[start]?.tokens ?? 1;
    const count = paddingBoundedCount(order, start, batchCapacity(longest, maxBatchTokens, maxBatchSize), maxPaddingRatio);
    batches.push(order.slice(start, start + count).map((entry) => entry.index));
    start += count;
  }
  return batches;
}
