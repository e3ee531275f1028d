import { EmbedderError } from './errors';
import type { PoolingMode } from './types';

/** Shape of a transformer output: [batchSize, sequenceLength, hiddenSize], row-major. */
export interface HiddenStateShape {
  batchSize: number;
  sequenceLength: number;
  hiddenSize: number;
}

/**
 * Pools token vectors into one vector per text, ignoring padding (attention mask 0), as sentence-transformers does:
 * mean over masked tokens, the first token (`cls`), or the element-wise max over masked tokens.
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
    row.fill(mode === 'max' ? -Infinity : 0);
    let count = 0;
    for (let t = 0; t < sequenceLength; t++) {
      if (Number(attentionMask[b * sequenceLength + t]) === 0) continue;
      count++;
      const offset = base + t * hiddenSize;
      if (mode === 'mean') {
        for (let h = 0; h < hiddenSize; h++) row[h]! += hidden[offset + h]!;
      } else {
        for (let h = 0; h < hiddenSize; h++) if (hidden[offset + h]! > row[h]!) row[h] = hidden[offset + h]!;
      }
    }
    if (mode === 'mean') {
      // sentence-transformers clamps the token count at 1e-9; a text always has [CLS] so count >= 1.
      const scale = 1 / Math.max(count, 1e-9);
      for (let h = 0; h < hiddenSize; h++) row[h]! *= scale;
    } else if (count === 0) {
      row.fill(0);
    }
  }
  return out;
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
