import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError } from '@embedder-rag/core';
import { ConfigFields, type HiddenActivation } from '../config-fields';
import type { EncoderFamily } from '../encoder-family';
import { activation, attend, dense, maskBias, relativePositionBias, rmsNorm } from '../tensor-ops';
import { firstPresent, fusedLinear, linear, matrix, vector, type LinearWeights } from '../weight-loaders';

interface T5Config {
  vocabSize: number;
  modelSize: number;
  numHeads: number;
  headSize: number;
  numLayers: number;
  feedForwardSize: number;
  layerNormEps: number;
  numBuckets: number;
  maxDistance: number;
  activation: HiddenActivation;
  /** gated-gelu (T5 v1.1, sentence-t5's successors): act(x·wi_0) ⊙ (x·wi_1). */
  gated: boolean;
  maxPositions: number;
}

function readT5Config(model: Parameters<EncoderFamily['load']>[0]): T5Config {
  const fields = new ConfigFields(model);
  // transformers' T5Config: feed_forward_proj is `act` or `gated-act`; "gated-gelu" means the tanh GELU.
  const projection = String(model.config.feed_forward_proj ?? 'relu');
  const parts = projection.split('-');
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'gated')) {
    throw new EmbedderError('UNSUPPORTED', `${model.dir}/config.json: feed_forward_proj '${projection}' is not 'act' or 'gated-act'`, {
      details: { dir: model.dir, field: 'feed_forward_proj' },
    });
  }
  const derived = projection === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]!;
  return {
    vocabSize: fields.positive('vocab_size'),
    modelSize: fields.positive('d_model'),
    numHeads: fields.positive('num_heads'),
    headSize: fields.positive('d_kv'),
    numLayers: fields.positive('num_layers'),
    feedForwardSize: fields.positive('d_ff'),
    layerNormEps: fields.epsilon('layer_norm_epsilon', 1e-6),
    numBuckets: fields.positive('relative_attention_num_buckets', 32),
    maxDistance: fields.positive('relative_attention_max_distance', 128),
    activation: fields.activation('dense_act_fn', derived),
    gated: parts[0] === 'gated',
    // Relative positions have no table to run out of; n_positions (T5's 512) bounds the quadratic attention.
    maxPositions: fields.positive('n_positions', 512),
  };
}

interface T5BlockWeights {
  attentionNorm: tf.Tensor1D;
  qkv: LinearWeights;
  attentionOutput: LinearWeights;
  feedForwardNorm: tf.Tensor1D;
  /** wi, or wi_0 | wi_1 fused. */
  input: LinearWeights;
  output: LinearWeights;
}

interface T5Weights {
  embeddings: tf.Tensor2D;
  /** [buckets, heads]: block 0's table, whose bias every block reuses. */
  relativeAttentionBias: tf.Tensor2D;
  blocks: T5BlockWeights[];
  finalNorm: tf.Tensor1D;
}

function loadT5Weights(file: Parameters<typeof firstPresent>[0], config: T5Config): T5Weights {
  const { modelSize: model, feedForwardSize: ff } = config;
  const inner = config.numHeads * config.headSize;
  const block = (index: number): T5BlockWeights => {
    const attention = `encoder.block.${index}.layer.0`;
    const feedForward = `encoder.block.${index}.layer.1`;
    return {
      attentionNorm: vector(file, `${attention}.layer_norm.weight`, model),
      qkv: fusedLinear(file, ['q', 'k', 'v'].map((name) => `${attention}.SelfAttention.${name}`), model, inner, false),
      attentionOutput: linear(file, `${attention}.SelfAttention.o`, inner, model, false),
      feedForwardNorm: vector(file, `${feedForward}.layer_norm.weight`, model),
      input: config.gated
        ? fusedLinear(file, [`${feedForward}.DenseReluDense.wi_0`, `${feedForward}.DenseReluDense.wi_1`], model, ff, false)
        : linear(file, `${feedForward}.DenseReluDense.wi`, model, ff, false),
      output: linear(file, `${feedForward}.DenseReluDense.wo`, ff, model, false),
    };
  };
  return tf.tidy(
    () =>
      ({
        // T5EncoderModel ties the encoder's embedding to `shared`; checkpoints store one or both.
        embeddings: matrix(file, firstPresent(file, ['shared.weight', 'encoder.embed_tokens.weight']), config.vocabSize, model),
        relativeAttentionBias: matrix(file, 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', config.numBuckets, config.numHeads),
        blocks: Array.from({ length: config.numLayers }, (_, index) => block(index)),
        finalNorm: vector(file, 'encoder.final_layer_norm.weight', model),
      }) satisfies T5Weights as unknown as tf.TensorContainer,
  ) as unknown as T5Weights;
}

/** The feed-forward sub-layer's inner part: act(x·wi)·wo, or (act(x·wi_0) ⊙ x·wi_1)·wo when gated. */
function feedForward(x: tf.Tensor2D, block: T5BlockWeights, config: T5Config): tf.Tensor2D {
  const projected = dense(x, block.input);
  if (!config.gated) return dense(activation(projected, config.activation), block.output);
  const [gate, linearPart] = tf.split(projected, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return dense(tf.mul(activation(gate, config.activation), linearPart), block.output);
}

/**
 * The T5 encoder (sentence-t5, gtr-t5): no position embeddings but a relative attention bias computed from block 0's
 * table and shared by every block; pre-norm blocks with RMS LayerNorm (no mean, no bias); no 1/√d scaling of the
 * scores; ReLU or gated-GELU feed-forward without biases; a final RMS norm.
 */
export const t5Family: EncoderFamily = {
  name: 't5',
  modelTypes: ['t5', 'mt5'],
  load(model, file) {
    const config = readT5Config(model);
    const weights = loadT5Weights(file, config);
    const { modelSize, numHeads: heads, headSize, layerNormEps: eps } = config;
    return {
      hiddenSize: modelSize,
      vocabSize: config.vocabSize,
      maxPositions: config.maxPositions,
      typeVocabSize: undefined,
      forward(inputs) {
        const [batch, sequence] = inputs.inputIds.shape;
        let hidden = tf.reshape(tf.gather(weights.embeddings, inputs.inputIds), [batch * sequence, modelSize]) as tf.Tensor2D;
        const bias = tf.add<tf.Tensor4D>(relativePositionBias(weights.relativeAttentionBias, sequence, config), maskBias(inputs.attentionMask));
        for (const block of weights.blocks) {
          const context = attend(dense(rmsNorm(hidden, block.attentionNorm, eps), block.qkv), bias, { batch, sequence, heads, headSize }, 1);
          hidden = tf.add(hidden, dense(context, block.attentionOutput));
          hidden = tf.add(hidden, feedForward(rmsNorm(hidden, block.feedForwardNorm, eps), block, config));
        }
        return tf.reshape(rmsNorm(hidden, weights.finalNorm, eps), [batch, sequence, modelSize]);
      },
      dispose: () => tf.dispose(weights as unknown as tf.TensorContainer),
    };
  },
};
