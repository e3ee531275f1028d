import { describe, expect, it } from 'vitest';
import { isEmbedderError } from './errors';
import { l2NormalizeRows, poolHiddenStates } from './pooling';

// Two texts, three token positions, hidden size 2. Text 0 has tokens at 0 and 1 (position 2 is padding); text 1 has
// all three. Padding carries large values that must never leak into a result.
const shape = { batchSize: 2, sequenceLength: 3, hiddenSize: 2 };
const hidden = new Float32Array([1, 2, 3, -4, 100, 100, /* text 1 */ -1, 0, 2, 6, 5, -3]);
const mask = new BigInt64Array([1n, 1n, 0n, 1n, 1n, 1n]);

describe('poolHiddenStates', () => {
  it('mean averages the unmasked tokens only', () => {
    expect(Array.from(poolHiddenStates(hidden, mask, shape, 'mean'))).toEqual([2, -1, 2, 1]);
  });
  it('cls takes the first token', () => {
    expect(Array.from(poolHiddenStates(hidden, mask, shape, 'cls'))).toEqual([1, 2, -1, 0]);
  });
  it('max takes the largest unmasked value per dimension, and an Int32Array mask works too', () => {
    expect(Array.from(poolHiddenStates(hidden, new Int32Array([1, 1, 0, 1, 1, 1]), shape, 'max'))).toEqual([3, 2, 5, 6]);
  });
  it('max of a fully masked text is zeros, not -Infinity', () => {
    const pooled = poolHiddenStates(hidden, new BigInt64Array([0n, 0n, 0n, 1n, 0n, 0n]), shape, 'max');
    expect(Array.from(pooled)).toEqual([0, 0, -1, 0]);
  });
  it('writes into a given buffer', () => {
    const out = new Float32Array(4).fill(9);
    expect(poolHiddenStates(hidden, mask, shape, 'mean', out)).toBe(out);
    expect(Array.from(out)).toEqual([2, -1, 2, 1]);
  });
  it('refuses hidden states of the wrong size with INFERENCE_FAILED', () => {
    let caught: unknown;
    try {
      poolHiddenStates(hidden.subarray(1), mask, shape, 'mean');
    } catch (error) {
      caught = error;
    }
    expect(isEmbedderError(caught, 'INFERENCE_FAILED')).toBe(true);
    expect((caught as Error).message).toBe('hidden states have 11 values, expected 2x3x2');
  });
});

describe('l2NormalizeRows', () => {
  it('scales each row to unit length in place; a zero row stays zero', () => {
    const matrix = new Float32Array([3, 4, 0, 0, -2, 0]);
    expect(l2NormalizeRows(matrix, 2)).toBe(matrix);
    expect(Array.from(matrix)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0, -1, 0]);
  });
  it('refuses a dimension that does not divide the matrix', () => {
    expect(() => l2NormalizeRows(new Float32Array(5), 2)).toThrow('a matrix of 5 values has no rows of 2');
    expect(() => l2NormalizeRows(new Float32Array(4), 0)).toThrow(/no rows of 0/);
  });
});
