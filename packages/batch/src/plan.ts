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
export function planBatches(items: readonly SchedulableItem[], maxBatchTokens: number, maxBatchSize: number): number[][] {
  const order = sortByLength(items.map((item, index) => ({ tokens: item.tokens, index })));
  const batches: number[][] = [];
  let start = 0;
  while (start < order.length) {
    const longest = order[start]?.tokens ?? 1;
    const count = batchCapacity(longest, maxBatchTokens, maxBatchSize);
    batches.push(order.slice(start, start + count).map((entry) => entry.index));
    start += count;
  }
  return batches;
}
