import { describe, expect, it } from 'vitest';
import { batchCapacity, cheapestCuts, paddedTokens, planBatches } from './plan';

describe('planBatches', () => {
  it('cuts length-sorted batches under the budget and covers every item once', () => {
    const tokens = [5, 100, 7, 90, 6, 3];
    const batches = planBatches(tokens.map((t) => ({ tokens: t })), 200, 4, Number.POSITIVE_INFINITY);
    expect(batches).toEqual([[1, 3], [2, 4, 0, 5]]);
    for (const batch of batches) expect(paddedTokens(batch.map((i) => ({ tokens: tokens[i] ?? 0 })))).toBeLessThanOrEqual(200);
  });

  it('cuts where padding would exceed the ratio, but fills whole batches of similar lengths', () => {
    const mixed = [53, 12, 40, 9, 38, 14, 52, 10].map((t) => ({ tokens: t }));
    const batches = planBatches(mixed, 8192, 32, 1.3);
    for (const batch of batches) {
      const items = batch.map((i) => mixed[i]!);
      const real = items.reduce((sum, item) => sum + item.tokens, 0);
      expect(paddedTokens(items)).toBeLessThanOrEqual(real * 1.3);
    }
    expect(batches.map((b) => b.map((i) => mixed[i]!.tokens))).toEqual([[53, 52, 40, 38], [14, 12, 10, 9]]);
    const similar = Array.from({ length: 64 }, (_, i) => ({ tokens: 20 + (i % 3) }));
    expect(planBatches(similar, 8192, 32, 1.3).map((b) => b.length)).toEqual([32, 32]);
  });

  it('gives an over-budget item a batch of its own', () => {
    expect(batchCapacity(5000, 1024, 32)).toBe(1);
    expect(planBatches([{ tokens: 5000 }, { tokens: 2 }], 1024, 32)).toEqual([[0], [1]]);
  });
});

describe('cheapestCuts', () => {
  const sizesFrom = (take: Int32Array, start = 0): number[] => {
    const sizes: number[] = [];
    for (let at = start; at < take.length; at += take[at]!) sizes.push(take[at]!);
    return sizes;
  };
  const cost = (sorted: number[], sizes: number[], overhead: number): number => {
    let total = 0;
    let at = 0;
    for (const size of sizes) {
      total += overhead + sorted[at]! * size;
      at += size;
    }
    return total;
  };

  it('costs no more than the greedy cut (padded tokens + overhead per batch) and keeps every batch within the ratio', () => {
    // 64 concurrent single texts of short.txt-like lengths, sorted longest first.
    let state = 7;
    const sorted = Array.from({ length: 64 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return 6 + (state % 30);
    }).sort((a, b) => b - a);
    const items = sorted.map((tokens) => ({ tokens }));
    const capacity = (longest: number) => batchCapacity(longest, 2048, 32);
    const sizes = sizesFrom(cheapestCuts(items, 0, capacity, 1.2, 16));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(64);
    const greedy = planBatches(items, 2048, 32, 1.2).map((batch) => batch.length);
    expect(cost(sorted, sizes, 16)).toBeLessThanOrEqual(cost(sorted, greedy, 16));
    let at = 0;
    for (const size of sizes) {
      const batch = sorted.slice(at, at + size);
      expect(batch[0]! * size).toBeLessThanOrEqual(batch.reduce((a, b) => a + b, 0) * 1.2);
      at += size;
    }
    // Padding efficiency: what the model computes for real tokens, higher than the greedy cut's.
    const efficiency = (cut: number[]) => sorted.reduce((a, b) => a + b, 0) / cost(sorted, cut, 0);
    expect(efficiency(sizes)).toBeGreaterThan(efficiency(greedy));
  });

  it('fills whole batches from a long run of similar lengths, and a cut from the middle follows the same plan', () => {
    const similar = Array.from({ length: 64 }, (_, i) => ({ tokens: 22 - (i % 3 === 0 ? 0 : 1) })).sort((a, b) => b.tokens - a.tokens);
    const take = cheapestCuts(similar, 0, (longest) => batchCapacity(longest, 8192, 32), 1.2, 16);
    expect(sizesFrom(take)).toEqual([32, 32]);
    // Equal lengths: full batches only.
    const equal = Array.from({ length: 64 }, () => ({ tokens: 20 }));
    expect(sizesFrom(cheapestCuts(equal, 0, (longest) => batchCapacity(longest, 8192, 32), 1.2, 16))).toEqual([32, 32]);
    expect(sizesFrom(cheapestCuts(equal, 10, (longest) => batchCapacity(longest, 8192, 32), 1.2, 16), 10)).toEqual([22, 32]);
  });
});
