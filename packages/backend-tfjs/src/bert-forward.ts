import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from './bert-config';
import type { BertWeights, EncoderLayerWeights, LayerNormWeights, LinearWeights } from './bert-weights';

/** A batch as int32 tensors [batch, sequence]. */
export interface BertInputs {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
}

/** What HF BERT adds to the scores of padding keys: the float32 minimum, so softmax gives them exactly 0. */
const MASKED_SCORE = -3.4028234663852886e38;

/** x·W + b on a [rows, in] matrix. */
function dense(x: tf.Tensor2D, layer: LinearWeights): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: layer.kernel, bias: layer.bias }) as tf.Tensor2D;
}

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · γ + β. */
function layerNorm<T extends tf.Tensor>(x: T, weights: LayerNormWeights, eps: number): T {
  const { mean, variance } = tf.moments(x, -1, true);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalised, weights.gamma), weights.beta);
}

/** BERT's `gelu` is the exact one, x·Φ(x) = ½x(1 + erf(x/√2)); `gelu_new` its tanh approximation. */
function activation(x: tf.Tensor2D, kind: BertConfig['activation']): tf.Tensor2D {
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

/** Word + position (0…seq−1) + token type embeddings, then LayerNorm → [batch·seq, hidden]. */
function embeddings(inputs: BertInputs, weights: BertWeights, config: BertConfig): tf.Tensor2D {
  const [batch, sequence] = inputs.inputIds.shape;
  const words = tf.gather(weights.wordEmbeddings, inputs.inputIds);
  const positions = tf.slice(weights.positionEmbeddings, [0, 0], [sequence, config.hiddenSize]);
  const types = tf.gather(weights.tokenTypeEmbeddings, inputs.tokenTypeIds);
  const summed = tf.add(tf.add(words, positions), types);
  return tf.reshape(layerNorm(summed, weights.embeddingNorm, config.layerNormEps), [batch * sequence, config.hiddenSize]);
}

/** [batch, 1, 1, seq]: 0 for real tokens, the float32 minimum for padding (added to every query's scores). */
function attentionBias(attentionMask: tf.Tensor2D): tf.Tensor4D {
  const [batch, sequence] = attentionMask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), MASKED_SCORE), [batch, 1, 1, sequence]);
}

/** Masked multi-head self-attention, projected back to hidden: [batch·seq, hidden] → [batch·seq, hidden]. */
function selfAttention(x: tf.Tensor2D, bias: tf.Tensor4D, layer: EncoderLayerWeights, config: BertConfig, batch: number, sequence: number): tf.Tensor2D {
  const heads = config.numHeads;
  const headSize = config.hiddenSize / heads;
  // [batch·seq, hidden] → [batch, heads, seq, headSize]
  const split = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [batch, sequence, heads, headSize]), [0, 2, 1, 3]);
  const [query, key, value] = tf.split(dense(x, layer.qkv), 3, 1);
  const scores = tf.add(tf.mul(tf.matMul(split(query!), split(key!), false, true), 1 / Math.sqrt(headSize)), bias);
  const context = tf.matMul(tf.softmax(scores), split(value!));
  const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * sequence, config.hiddenSize]) as tf.Tensor2D;
  return dense(merged, layer.attentionOutput);
}

/** One encoder layer: attention + residual + LayerNorm, then feed-forward + residual + LayerNorm. */
function encoderLayer(x: tf.Tensor2D, bias: tf.Tensor4D, layer: EncoderLayerWeights, config: BertConfig, batch: number, sequence: number): tf.Tensor2D {
  const attended = layerNorm(tf.add<tf.Tensor2D>(selfAttention(x, bias, layer, config, batch, sequence), x), layer.attentionNorm, config.layerNormEps);
  const intermediate = activation(dense(attended, layer.intermediate), config.activation);
  return layerNorm(tf.add<tf.Tensor2D>(dense(intermediate, layer.output), attended), layer.outputNorm, config.layerNormEps);
}

// Functional ops (tf.add(a, b)) rather than chained ones (a.add(b)): tfjs-core's Node build does not register the
// chained methods on Tensor unless the full @tensorflow/tfjs package is loaded.

/**
 * The BERT encoder's forward pass: last hidden states [batch, seq, hidden]. Call inside tf.tidy: every
 * intermediate tensor is left for the caller's scope to dispose.
 */
export function bertForward(inputs: BertInputs, weights: BertWeights, config: BertConfig): tf.Tensor3D {
  const [batch, sequence] = inputs.inputIds.shape;
  const bias = attentionBias(inputs.attentionMask);
  let hidden = embeddings(inputs, weights, config);
  for (const layer of weights.layers) hidden = encoderLayer(hidden, bias, layer, config, batch, sequence);
  return tf.reshape(hidden, [batch, sequence, config.hiddenSize]);
}
