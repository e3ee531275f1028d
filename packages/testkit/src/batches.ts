import type { TokenizedBatch } from '@embedder-rag/core';

/**
 * A batch from token ids (specials included), padded with id 0 / mask 0 to the longest row, token types 0 —
 * what a BERT tokenizer produces for single texts.
 */
export function batchFromIds(rows: readonly (readonly number[])[], padId = 0): TokenizedBatch {
  const batchSize = rows.length;
  const sequenceLength = rows.reduce((longest, row) => Math.max(longest, row.length), 0);
  const inputIds = new BigInt64Array(batchSize * sequenceLength).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batchSize * sequenceLength);
  rows.forEach((row, b) => {
    row.forEach((id, t) => {
      inputIds[b * sequenceLength + t] = BigInt(id);
      attentionMask[b * sequenceLength + t] = 1n;
    });
  });
  return { inputIds, attentionMask, tokenTypeIds: new BigInt64Array(batchSize * sequenceLength), batchSize, sequenceLength };
}

/** Row `index` of a row-major [rows × dimension] matrix (a view). */
export function row(matrix: Float32Array, index: number, dimension: number): Float32Array {
  return matrix.subarray(index * dimension, (index + 1) * dimension);
}
