import { describe, expect, it } from 'vitest';
import { lengthGroups } from './length-groups';

const padded = (lengths: number[], groups: number[][]) => groups.reduce((sum, group) => sum + group.length * Math.max(...group.map((i) => lengths[i]!)), 0);

describe('lengthGroups', () => {
  it('covers every text once and pads less than one batch padded to its longest text', () => {
    const lengths = [12, 42, 9, 15, 11, 30, 8, 10, 13, 14, 9, 40, 11, 12, 16, 10];
    const groups = lengthGroups(lengths, 32);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    expect(groups.length).toBeGreaterThan(1);
    expect(padded(lengths, groups) + 32 * groups.length).toBeLessThan(lengths.length * 42 + 32);
    // Each group holds texts of neighbouring lengths.
    for (let g = 1; g < groups.length; g++) {
      expect(Math.min(...groups[g]!.map((i) => lengths[i]!))).toBeGreaterThanOrEqual(Math.max(...groups[g - 1]!.map((i) => lengths[i]!)));
    }
  });

  it('pads no group beyond maxTokens unless one text alone is longer', () => {
    const lengths = [10, 12, 11, 13, 300, 12, 10, 11];
    const groups = lengthGroups(lengths, 1000, 40);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const group of groups) {
      const tokens = group.length * Math.max(...group.map((i) => lengths[i]!));
      expect(tokens <= 40 || group.length === 1, `group ${JSON.stringify(group)} pads ${tokens}`).toBe(true);
    }
    expect(groups).toContainEqual([4]);
  });

  it('keeps one group when splitting would not pay for its overhead', () => {
    expect(lengthGroups([10, 11, 12, 10], 32)).toEqual([[0, 3, 1, 2]]);
    expect(lengthGroups([7], 32)).toEqual([[0]]);
    expect(lengthGroups([5, 100], 0)).toEqual([[0], [1]]);
  });
});
