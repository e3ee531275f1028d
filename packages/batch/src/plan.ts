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
