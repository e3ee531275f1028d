import * as tf from '@tensorflow/tfjs-core';
import { readParameter, type WeightSet } from '@embedder-rag/weights';
import type { BertConfig } from './bert-config';

/** A linear layer as the forward pass uses it: kernel [in, out] (PyTorch's [out, in], transposed once at load). */
export interface LinearWeights {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

export interface LayerNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/** One encoder layer. Query, key and value are fused into one [hidden, 3·hidden] projection. */
export interface EncoderLayerWeights {
  qkv: LinearWeights;
  attentionOutput: LinearWeights;
  attentionNorm: LayerNormWeights;
  intermediate: LinearWeights;
  output: LinearWeights;
  outputNorm: LayerNormWeights;
}

/** Every tensor of the encoder, resident in the tfjs runtime. */
export interface BertWeights {
  wordEmbeddings: tf.Tensor2D;
  positionEmbeddings: tf.Tensor2D;
  tokenTypeEmbeddings: tf.Tensor2D;
  embeddingNorm: LayerNormWeights;
  layers: EncoderLayerWeights[];
}

function vector(weights: WeightSet, name: string, size: number): tf.Tensor1D {
  return tf.tensor1d(readParameter(weights, name, [size]));
}

function matrix(weights: WeightSet, name: string, rows: number, columns: number): tf.Tensor2D {
  return tf.tensor2d(readParameter(weights, name, [rows, columns]), [rows, columns]);
}

function layerNorm(weights: WeightSet, prefix: string, size: number): LayerNormWeights {
  return { gamma: vector(weights, `${prefix}.weight`, size), beta: vector(weights, `${prefix}.bias`, size) };
}

/** Reads `Linear(in → out)` stored as weight [out, in] + bias [out]; the kernel is transposed to [in, out]. */
function linear(weights: WeightSet, prefix: string, inFeatures: number, outFeatures: number): LinearWeights {
  return tf.tidy(() => ({
    kernel: tf.transpose(matrix(weights, `${prefix}.weight`, outFeatures, inFeatures)),
    bias: vector(weights, `${prefix}.bias`, outFeatures),
  }));
}

function fusedQkv(weights: WeightSet, prefix: string, hidden: number): LinearWeights {
  return tf.tidy(() => {
    const parts = ['query', 'key', 'value'].map((name) => linear(weights, `${prefix}.${name}`, hidden, hidden));
    return {
      kernel: tf.concat2d(parts.map((part) => part.kernel), 1),
      bias: tf.concat1d(parts.map((part) => part.bias)),
    };
  });
}

function encoderLayer(weights: WeightSet, index: number, config: BertConfig): EncoderLayerWeights {
  const prefix = `encoder.layer.${index}`;
  const { hiddenSize: hidden, intermediateSize } = config;
  return {
    qkv: fusedQkv(weights, `${prefix}.attention.self`, hidden),
    attentionOutput: linear(weights, `${prefix}.attention.output.dense`, hidden, hidden),
    attentionNorm: layerNorm(weights, `${prefix}.attention.output.LayerNorm`, hidden),
    intermediate: linear(weights, `${prefix}.intermediate.dense`, hidden, intermediateSize),
    output: linear(weights, `${prefix}.output.dense`, intermediateSize, hidden),
    outputNorm: layerNorm(weights, `${prefix}.output.LayerNorm`, hidden),
  };
}

/**
 * Copies the encoder's parameters into tfjs tensors, checking each name and shape against config.json
 * (extra tensors such as the pooler or MLM head are not read). Inside tf.tidy, so a failure part-way (a missing
 * or cut tensor) disposes what was already created.
 */
export function loadBertWeights(weights: WeightSet, config: BertConfig): BertWeights {
  const { hiddenSize: hidden } = config;
  const loaded = tf.tidy(
    () =>
      ({
        wordEmbeddings: matrix(weights, 'embeddings.word_embeddings.weight', config.vocabSize, hidden),
        positionEmbeddings: matrix(weights, 'embeddings.position_embeddings.weight', config.maxPositionEmbeddings, hidden),
        tokenTypeEmbeddings: matrix(weights, 'embeddings.token_type_embeddings.weight', config.typeVocabSize, hidden),
        embeddingNorm: layerNorm(weights, 'embeddings.LayerNorm', hidden),
        layers: Array.from({ length: config.numLayers }, (_, index) => encoderLayer(weights, index, config)),
      }) satisfies BertWeights as unknown as tf.TensorContainer,
  );
  return loaded as unknown as BertWeights;
}

/** Releases every tensor of the encoder. */
export function disposeBertWeights(weights: BertWeights): void {
  tf.dispose(weights as unknown as tf.TensorContainer);
}
