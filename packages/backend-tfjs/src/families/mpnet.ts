import * as tf from '@tensorflow/tfjs-core';
import { ConfigFields } from '../config-fields';
import type { EncoderFamily } from '../encoder-family';
import { layerNorm, maskBias, positionsPastPadding, relativePositionBias } from '../tensor-ops';
import { layerNormWeights, matrix, type LayerNormWeights } from '../weight-loaders';
import { bertLayer, loadBertLayer, readBertConfig, type BertLayerNames, type BertLayerWeights } from './bert';

// transformers computes MPNet's buckets with these constants whatever config.json says (compute_position_bias).
const MPNET_BUCKETS = { numBuckets: 32, maxDistance: 128 };

const MPNET_LAYER_NAMES: BertLayerNames = {
  qkv: ['attention.attn.q', 'attention.attn.k', 'attention.attn.v'],
  attentionOutput: 'attention.attn.o',
  attentionNorm: 'attention.LayerNorm',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
  outputNorm: 'output.LayerNorm',
};

interface MpnetWeights {
  wordEmbeddings: tf.Tensor2D;
  positionEmbeddings: tf.Tensor2D;
  embeddingNorm: LayerNormWeights;
  /** [buckets, heads], one table shared by every layer. */
  relativeAttentionBias: tf.Tensor2D;
  layers: BertLayerWeights[];
}

/**
 * MPNet (all-mpnet-base-v2): BERT's layer layout under other names, no token types, absolute positions counted
 * past the padding index as in XLM-R, and one relative position bias table [32 buckets, heads] whose bias is added
 * to the scaled scores of every layer.
 */
export const mpnetFamily: EncoderFamily = {
  name: 'mpnet',
  modelTypes: ['mpnet'],
  load(model, file) {
    const fields = new ConfigFields(model);
    const config = readBertConfig(model);
    const padIndex = fields.index('pad_token_id', 1);
    const buckets = fields.positive('relative_attention_num_buckets', MPNET_BUCKETS.numBuckets);
    const hidden = config.hiddenSize;
    const weights = tf.tidy(
      () =>
        ({
          wordEmbeddings: matrix(file, 'embeddings.word_embeddings.weight', config.vocabSize, hidden),
          positionEmbeddings: matrix(file, 'embeddings.position_embeddings.weight', config.maxPositionEmbeddings, hidden),
          embeddingNorm: layerNormWeights(file, 'embeddings.LayerNorm', hidden),
          relativeAttentionBias: matrix(file, 'encoder.relative_attention_bias.weight', buckets, config.numHeads),
          layers: Array.from({ length: config.numLayers }, (_, index) => loadBertLayer(file, index, config, MPNET_LAYER_NAMES)),
        }) satisfies MpnetWeights as unknown as tf.TensorContainer,
    ) as unknown as MpnetWeights;
    return {
      hiddenSize: hidden,
      vocabSize: config.vocabSize,
      maxPositions: config.maxPositionEmbeddings - padIndex - 1,
      typeVocabSize: undefined,
      forward(inputs) {
        const [batch, sequence] = inputs.inputIds.shape;
        const positionIds = tf.tensor2d(positionsPastPadding(inputs.ids, batch, sequence, padIndex), [batch, sequence], 'int32');
        const summed = tf.add(tf.gather(weights.wordEmbeddings, inputs.inputIds), tf.gather(weights.positionEmbeddings, positionIds));
        let hidden2d = tf.reshape(layerNorm(summed, weights.embeddingNorm, config.layerNormEps), [batch * sequence, hidden]) as tf.Tensor2D;
        // Position bias and padding mask summed once: [batch, heads, seq, seq], shared by every layer.
        const bias = tf.add<tf.Tensor4D>(relativePositionBias(weights.relativeAttentionBias, sequence, MPNET_BUCKETS), maskBias(inputs.attentionMask));
        for (const layer of weights.layers) hidden2d = bertLayer(hidden2d, bias, layer, config, batch, sequence);
        return tf.reshape(hidden2d, [batch, sequence, hidden]);
      },
      dispose: () => tf.dispose(weights as unknown as tf.TensorContainer),
    };
  },
};
