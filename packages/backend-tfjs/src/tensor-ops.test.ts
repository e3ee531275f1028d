import { describe, expect, it } from 'vitest';
import { positionsPastPadding, relativePositionBucket } from './tensor-ops';

describe('relativePositionBucket (T5 / MPNet, 32 buckets, max distance 128)', () => {
  const bucket = (keyMinusQuery: number) => relativePositionBucket(keyMinusQuery, 32, 128);

  it('is exact below 8, then logarithmic with the boundaries transformers gives', () => {
    // Keys before the query (j − i = −n): buckets 0…15.
    const boundaries: [number, number][] = [[0, 0], [7, 7], [8, 8], [11, 8], [12, 9], [15, 9], [16, 10], [22, 10], [23, 11], [31, 11], [32, 12], [45, 12], [46, 13], [63, 13], [64, 14], [90, 14], [91, 15], [400, 15]];
    for (const [distance, expected] of boundaries) expect(bucket(-distance), `distance ${distance}`).toBe(expected);
  });

  it('puts keys after the query in the upper half', () => {
    expect(bucket(1)).toBe(17);
    expect(bucket(12)).toBe(16 + 9);
    expect(bucket(1000)).toBe(31);
  });
});

describe('positionsPastPadding', () => {
  it('counts real tokens from pad + 1 and gives padding the pad index, from the ids', () => {
    // Row 0 padded at the end; row 1 holds a pad id in the middle (transformers skips it too).
    expect(Array.from(positionsPastPadding(Int32Array.from([0, 9, 2, 1, 0, 1, 9, 2]), 2, 4, 1))).toEqual([2, 3, 4, 1, 2, 1, 3, 4]);
  });
});
