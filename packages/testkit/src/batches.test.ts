import { describe, expect, it } from 'vitest';
import { batchFromIds, row } from './batches';

describe('batchFromIds', () => {
  it('pads to the longest row with id 0 and mask 0, token types 0', () => {
    const batch = batchFromIds([[101, 7592, 102], [101, 102]]);
    expect(batch.batchSize).toBe(2);
    expect(batch.sequenceLength).toBe(3);
    expect([...batch.inputIds]).toEqual([101n, 7592n, 102n, 101n, 102n, 0n]);
    expect([...batch.attentionMask]).toEqual([1n, 1n, 1n, 1n, 1n, 0n]);
    expect([...batch.tokenTypeIds]).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
  });

  it('gives an empty batch for no rows', () => {
    const batch = batchFromIds([]);
    expect([batch.batchSize, batch.sequenceLength, batch.inputIds.length]).toEqual([0, 0, 0]);
  });
});

describe('row', () => {
  it('is a view of one row', () => {
    const matrix = new Float32Array([1, 2, 3, 4, 5, 6]);
    expect([...row(matrix, 1, 3)]).toEqual([4, 5, 6]);
    expect(row(matrix, 1, 3).buffer).toBe(matrix.buffer);
  });
});
