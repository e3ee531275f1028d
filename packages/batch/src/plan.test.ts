import { describe, expect, it } from 'vitest';
import { batchCapacity, paddedTokens, planBatches } from './plan';

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
