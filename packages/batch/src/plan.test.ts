import { describe, expect, it } from 'vitest';
import { batchCapacity, paddedTokens, planBatches } from './plan';

describe('planBatches', () => {
  it('cuts length-sorted batches under the budget and covers every item once', () => {
    const tokens = [5, 100, 7, 90, 6, 3];
    const batches = planBatches(tokens.map((t) => ({ tokens: t })), 200, 4);
    expect(batches).toEqual([[1, 3], [2, 4, 0, 5]]);
    for (const batch of batches) expect(paddedTokens(batch.map((i) => ({ tokens: tokens[i] ?? 0 })))).toBeLessThanOrEqual(200);
  });

  it('gives an over-budget item a batch of its own', () => {
    expect(batchCapacity(5000, 1024, 32)).toBe(1);
    expect(planBatches([{ tokens: 5000 }, { tokens: 2 }], 1024, 32)).toEqual([[0], [1]]);
  });
});
