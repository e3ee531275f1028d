import type { TokenizedBatch } from './backend';
import { EmbedderError } from './errors';
import type { PoolingMode } from './types';

/** Shape of a transformer output: [batchSize, sequenceLength, hiddenSize], row-major. */
export interface HiddenStateShape {
  batchSize: number;
  sequenceLength: number;
  hiddenSize: number;
}

/**
 * Pools token vectors into one vector per text, ignoring padding (mask 0), as sentence-transformers' Pooling does:
 * the first token (`cls`), the mean, the element-wise max, the sum over √count (`mean_sqrt_len_tokens`), the mean
 * weighted by position 1, 2, … (`weightedmean`) or the last token with mask 1 (`lasttoken`).
 * Writes into `out` (length batchSize × hiddenSize) when given, so callers can reuse a buffer.
 */
export function poolHiddenStates(
  hidden: Float32Array,
  attentionMask: BigInt64Array | Int32Array,
  shape: HiddenStateShape,
  mode: PoolingMode,
  out: Float32Array = new Float32Array(shape.batchSize * shape.hiddenSize),
): Float32Array {
  const { batchSize, sequenceLength, hiddenSize } = shape;
  if (hidden.length !== batchSize * sequenceLength * hiddenSize) {
    throw new EmbedderError('INFERENCE_FAILED', `hidden states have ${hidden.length} values, expected ${batchSize}x${sequenceLength}x${hiddenSize}`);
  }
  for (let b = 0; b < batchSize; b++) {
    const row = out.subarray(b * hiddenSize, (b + 1) * hiddenSize);
    const base = b * sequenceLength * hiddenSize;
    if (mode === 'cls') {
      row.set(hidden.subarray(base, base + hiddenSize));
      continue;
    }
    if (mode === 'lasttoken') {
      let last = -1;
      for (let t = 0; t < sequenceLength; t++) if (Number(attentionMask[b * sequenceLength + t]) !== 0) last = t;
      if (last < 0) row.fill(0);
      else row.set(hidden.subarray(base + last * hiddenSize, base + (last + 1) * hiddenSize));
      continue;
    }
    row.fill(mode === 'max' ? -Infinity : 0);
    let weightSum = 0;
    for (let t = 0; t < sequenceLength; t++) {
      if (Number(attentionMask[b * sequenceLength + t]) === 0) continue;
      const offset = base + t * hiddenSize;
      if (mode === 'max') {
        weightSum++;
        for (let h = 0; h < hiddenSize; h++) if (hidden[offset + h]! > row[h]!) row[h] = hidden[offset + h]!;
      } else {
        // weightedmean weighs the token at position t by t + 1 (sentence-transformers' arange(1, seq + 1)).
        const weight = mode === 'weightedmean' ? t + 1 : 1;
        weightSum += weight;
        for (let h = 0; h < hiddenSize; h++) row[h]! += weight * hidden[offset + h]!;
      }
    }
    if (mode === 'max') {
      if (weightSum === 0) row.fill(0);
      continue;
    }
    // sentence-transformers clamps the divisor at 1e-9 (a text with every token masked stays zero).
    const clamped = Math.max(weightSum, 1e-9);
    const scale = 1 / (mode === 'mean_sqrt_len_tokens' ? Math.sqrt(clamped) : clamped);
    for (let h = 0; h < hiddenSize; h++) row[h]! *= scale;
  }
  return out;
}

/**
 * Pools a backend's [batch, seq, hidden] output for `batch`: with the batch's poolingMask when it has one (prompt
 * tokens left out when the model's Pooling says include_prompt false), else its attention mask. What every backend
 * calls on its output buffer.
 */
export function poolBatch(hidden: Float32Array, batch: TokenizedBatch, hiddenSize: number, mode: PoolingMode): Float32Array {
  return poolHiddenStates(hidden, batch.poolingMask ?? batch.attentionMask, { batchSize: batch.batchSize, sequenceLength: batch.sequenceLength, hiddenSize }, mode);
}

/**
 * L2-normalises each row of a row-major matrix in place (a zero row stays zero, as torch's normalize leaves it).
 * Accumulates in float64 for stability.
 */
export function l2NormalizeRows(matrix: Float32Array, dimension: number): Float32Array {
  if (dimension <= 0 || matrix.length % dimension !== 0) {
    throw new EmbedderError('DIMENSION_MISMATCH', `a matrix of ${matrix.length} values has no rows of ${dimension}`);
  }
  for (let start = 0; start < matrix.length; start += dimension) {
    let sum = 0;
    for (let i = start; i < start + dimension; i++) sum += matrix[i]! * matrix[i]!;
    // torch.nn.functional.normalize divides by max(norm, 1e-12).
    const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
    for (let i = start; i < start + dimension; i++) matrix[i]! *= scale;
  }
  return matrix;
}
