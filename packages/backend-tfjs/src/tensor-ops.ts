import * as tf from '@tensorflow/tfjs-core';
import type { HiddenActivation } from './config-fields';
import type { LayerNormWeights, LinearWeights } from './weight-loaders';

// The building blocks the encoder families share. Every function here is called inside the session's tf.tidy:
// intermediate tensors are left for that scope to dispose.
// Functional ops (tf.add(a, b)) rather than chained ones (a.add(b)): tfjs-core's Node build does not register the
// chained methods on Tensor unless the full @tensorflow/tfjs package is loaded.

/** What transformers adds to the scores of padding keys: the float32 minimum, so softmax gives them exactly 0. */
const MASKED_SCORE = -3.4028234663852886e38;

/** x·W (+ b) on a [rows, in] matrix. */
export function dense(x: tf.Tensor2D, layer: LinearWeights): tf.Tensor2D {
  return tf.fused.matMul(layer.bias ? { a: x, b: layer.kernel, bias: layer.bias } : { a: x, b: layer.kernel }) as tf.Tensor2D;
}

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · γ + β. */
export function layerNorm<T extends tf.Tensor>(x: T, weights: LayerNormWeights, eps: number): T {
  const { mean, variance } = tf.moments(x, -1, true);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalised, weights.gamma), weights.beta);
}

/** T5's LayerNorm: x / sqrt(mean(x²) + eps) · γ, with no mean subtracted and no bias. */
export function rmsNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, eps: number): T {
  const meanSquare = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), gamma);
}

/** `gelu` is the exact one, x·Φ(x) = ½x(1 + erf(x/√2)); `gelu_new` its tanh approximation. */
export function activation(x: tf.Tensor2D, kind: HiddenActivation): tf.Tensor2D {
  switch (kind) {
    case 'gelu':
      return tf.mul(tf.mul(x, tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), 0.5);
    case 'gelu_new': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, tf.add(tf.tanh(inner), 1)), 0.5);
    }
    case 'relu':
      return tf.relu(x);
  }
}

/** [batch, 1, 1, seq]: 0 for real tokens, the float32 minimum for padding (added to every query's scores). */
export function maskBias(attentionMask: tf.Tensor2D): tf.Tensor4D {
  const [batch, sequence] = attentionMask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), MASKED_SCORE), [batch, 1, 1, sequence]);
}

/**
 * Dropout as training applies it, where transformers does: `hidden` after the embeddings' LayerNorm and after each
 * attention-output and feed-forward projection (before the residual), `attention` on the attention probabilities.
 * Inference passes none.
 */
export type Dropout = (x: tf.Tensor, site: 'hidden' | 'attention') => tf.Tensor;

/** The sizes of one attention call. */
export interface AttentionShape {
  batch: number;
  sequence: number;
  heads: number;
  headSize: number;
}

/**
 * Multi-head attention on fused projections: `qkv` is [batch·seq, 3·heads·headSize] (query | key | value);
 * scores = q·kᵀ·scale + scoreBias (the padding mask, plus any relative position bias), softmax over keys.
 * Returns the heads merged back, [batch·seq, heads·headSize], before the output projection.
 */
export function attend(qkv: tf.Tensor2D, scoreBias: tf.Tensor4D, shape: AttentionShape, scale: number, dropout?: Dropout): tf.Tensor2D {
  const { batch, sequence, heads, headSize } = shape;
  // [batch·seq, heads·headSize] → [batch, heads, seq, headSize]
  const split = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [batch, sequence, heads, headSize]), [0, 2, 1, 3]);
  const [query, key, value] = tf.split(qkv, 3, 1);
  const products = tf.matMul(split(query!), split(key!), false, true);
  const scores = tf.add(scale === 1 ? products : tf.mul(products, scale), scoreBias);
  const probabilities = tf.softmax(scores);
  const context = tf.matMul(dropout ? (dropout(probabilities, 'attention') as tf.Tensor4D) : probabilities, split(value!));
  return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * sequence, heads * headSize]);
}

/**
 * Position ids counted past the padding index, from the ids (RoBERTa, XLM-R, MPNet): a token that is not padding
 * at index i of its row gets padIndex + 1 + (non-pad tokens before it); padding gets padIndex. transformers'
 * `cumsum(ids != pad) * (ids != pad) + pad`.
 */
export function positionsPastPadding(ids: Int32Array, batch: number, sequence: number, padIndex: number): Int32Array {
  const positions = new Int32Array(ids.length);
  for (let b = 0; b < batch; b++) {
    let count = 0;
    for (let t = 0; t < sequence; t++) {
      const at = b * sequence + t;
      positions[at] = ids[at] === padIndex ? padIndex : padIndex + ++count;
    }
  }
  return positions;
}

/**
 * The bucket of a relative distance `keyMinusQuery` (key index − query index), bidirectional, as T5 and MPNet
 * compute it: half the buckets for keys after the query; exact below half of a half, logarithmic up to
 * `maxDistance`, the last bucket beyond. The logarithm is rounded as torch's float32 ops round it.
 */
export function relativePositionBucket(keyMinusQuery: number, numBuckets: number, maxDistance: number): number {
  const half = Math.floor(numBuckets / 2);
  const offset = keyMinusQuery > 0 ? half : 0;
  const distance = Math.abs(keyMinusQuery);
  const maxExact = Math.floor(half / 2);
  if (distance < maxExact) return offset + distance;
  const f = Math.fround;
  const logRatio = f(f(Math.log(f(distance / maxExact))) / f(Math.log(maxDistance / maxExact)));
  const large = maxExact + Math.trunc(f(logRatio * (half - maxExact)));
  return offset + Math.min(large, half - 1);
}

/** Settings of a relative position bias table. */
export interface RelativeBiasShape {
  numBuckets: number;
  maxDistance: number;
}

/**
 * The relative position bias of a sequence, [1, heads, seq, seq]: bias[h, i, j] = table[bucket(j − i), h], from a
 * table [numBuckets, heads]. Indices run over the padded sequence, whatever the padding (as in transformers).
 */
export function relativePositionBias(table: tf.Tensor2D, sequence: number, shape: RelativeBiasShape): tf.Tensor4D {
  const buckets = new Int32Array(sequence * sequence);
  for (let i = 0; i < sequence; i++) {
    for (let j = 0; j < sequence; j++) buckets[i * sequence + j] = relativePositionBucket(j - i, shape.numBuckets, shape.maxDistance);
  }
  const heads = table.shape[1];
  const values = tf.reshape(tf.gather(table, tf.tensor1d(buckets, 'int32')), [sequence, sequence, heads]);
  return tf.reshape(tf.transpose(values, [2, 0, 1]), [1, heads, sequence, sequence]);
}
