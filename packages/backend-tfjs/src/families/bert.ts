import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '@embedder-rag/core';
import type { WeightSet } from '@embedder-rag/weights';
import { ConfigFields, type HiddenActivation } from '../config-fields';
import type { EncoderFamily, EncoderInputs, LoadedEncoder } from '../encoder-family';
import { activation, attend, dense, layerNorm, maskBias, positionsPastPadding, type Dropout } from '../tensor-ops';
import { fusedLinear, layerNormWeights, linear, matrix, type LayerNormWeights, type LinearWeights, type WeightSource } from '../weight-loaders';

/** The BERT hyper-parameters the forward pass needs (from config.json). */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  activation: HiddenActivation;
}

/** Reads the BERT hyper-parameters of config.json. @throws EmbedderError MODEL_INVALID / UNSUPPORTED naming the field. */
export function readBertConfig(model: ModelSpec): BertConfig {
  const fields = new ConfigFields(model);
  const config: BertConfig = {
    vocabSize: fields.positive('vocab_size'),
    hiddenSize: fields.positive('hidden_size'),
    numLayers: fields.positive('num_hidden_layers'),
    numHeads: fields.positive('num_attention_heads'),
    intermediateSize: fields.positive('intermediate_size'),
    maxPositionEmbeddings: fields.positive('max_position_embeddings', 512),
    typeVocabSize: fields.positive('type_vocab_size', 2),
    layerNormEps: fields.epsilon('layer_norm_eps', 1e-12),
    activation: fields.activation('hidden_act', 'gelu'),
  };
  fields.headSize(config.hiddenSize, config.numHeads, 'hidden_size', 'num_attention_heads');
  return config;
}

/** One encoder layer. Query, key and value are fused into one [hidden, 3·hidden] projection. */
export interface BertLayerWeights {
  qkv: LinearWeights;
  attentionOutput: LinearWeights;
  attentionNorm: LayerNormWeights;
  intermediate: LinearWeights;
  output: LinearWeights;
  outputNorm: LayerNormWeights;
}

/** Where a BERT-style layer keeps its tensors, relative to the layer's prefix. */
export interface BertLayerNames {
  /** Query, key and value projections, in that order. */
  qkv: readonly [string, string, string];
  attentionOutput: string;
  attentionNorm: string;
  intermediate: string;
  output: string;
  outputNorm: string;
}

const BERT_LAYER_NAMES: BertLayerNames = {
  qkv: ['attention.self.query', 'attention.self.key', 'attention.self.value'],
  attentionOutput: 'attention.output.dense',
  attentionNorm: 'attention.output.LayerNorm',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
  outputNorm: 'output.LayerNorm',
};

/** Reads layer `index` (under `encoder.layer.N.`) of a BERT-style encoder. Call inside tf.tidy. */
export function loadBertLayer(weights: WeightSource, index: number, config: BertConfig, names: BertLayerNames = BERT_LAYER_NAMES): BertLayerWeights {
  const prefix = `encoder.layer.${index}`;
  const { hiddenSize: hidden, intermediateSize } = config;
  return {
    qkv: fusedLinear(weights, names.qkv.map((name) => `${prefix}.${name}`), hidden, hidden),
    attentionOutput: linear(weights, `${prefix}.${names.attentionOutput}`, hidden, hidden),
    attentionNorm: layerNormWeights(weights, `${prefix}.${names.attentionNorm}`, hidden),
    intermediate: linear(weights, `${prefix}.${names.intermediate}`, hidden, intermediateSize),
    output: linear(weights, `${prefix}.${names.output}`, intermediateSize, hidden),
    outputNorm: layerNormWeights(weights, `${prefix}.${names.outputNorm}`, hidden),
  };
}

/** Every tensor of a BERT encoder as the forward pass uses it (kernels transposed, q/k/v fused). */
export interface BertWeights {
  wordEmbeddings: tf.Tensor2D;
  positionEmbeddings: tf.Tensor2D;
  tokenTypeEmbeddings: tf.Tensor2D;
  embeddingNorm: LayerNormWeights;
  layers: BertLayerWeights[];
}

/** How a BERT-style encoder numbers positions and uses token types: the one place BERT and (XLM-)RoBERTa differ. */
export interface BertVariant {
  /**
   * undefined: positions 0…seq−1 (BERT). A number: the padding index; positions are counted past it from the ids
   * (RoBERTa, XLM-R), so a text may be that many + 1 tokens shorter than the position table.
   */
  padIndex: number | undefined;
  /** false: the model has no token types to feed; type row 0 is added to every token (RoBERTa, XLM-R). */
  tokenTypes: boolean;
}

/**
 * Arranges a BERT encoder's parameters for the forward pass. Not wrapped in tf.tidy: from a weight file the caller
 * tidies; training calls it with its tf.variables inside the gradient function every step, so the gradients flow
 * back to them.
 */
export function bertWeights(weights: WeightSource, config: BertConfig): BertWeights {
  const hidden = config.hiddenSize;
  return {
    wordEmbeddings: matrix(weights, 'embeddings.word_embeddings.weight', config.vocabSize, hidden),
    positionEmbeddings: matrix(weights, 'embeddings.position_embeddings.weight', config.maxPositionEmbeddings, hidden),
    tokenTypeEmbeddings: matrix(weights, 'embeddings.token_type_embeddings.weight', config.typeVocabSize, hidden),
    embeddingNorm: layerNormWeights(weights, 'embeddings.LayerNorm', hidden),
    layers: Array.from({ length: config.numLayers }, (_, index) => loadBertLayer(weights, index, config)),
  };
}

/** Name and PyTorch shape of every parameter a BERT encoder uses (the pooler is not among them), in file order. */
export function bertParameterShapes(config: BertConfig): { name: string; shape: number[] }[] {
  const { hiddenSize: hidden, intermediateSize } = config;
  const pair = (prefix: string, weight: number[], bias: number[]) => [
    { name: `${prefix}.weight`, shape: weight },
    { name: `${prefix}.bias`, shape: bias },
  ];
  const shapes = [
    { name: 'embeddings.word_embeddings.weight', shape: [config.vocabSize, hidden] },
    { name: 'embeddings.position_embeddings.weight', shape: [config.maxPositionEmbeddings, hidden] },
    { name: 'embeddings.token_type_embeddings.weight', shape: [config.typeVocabSize, hidden] },
    ...pair('embeddings.LayerNorm', [hidden], [hidden]),
  ];
  const sizes: Record<keyof BertLayerNames, [number, number]> = {
    qkv: [hidden, hidden],
    attentionOutput: [hidden, hidden],
    attentionNorm: [hidden, 0],
    intermediate: [hidden, intermediateSize],
    output: [intermediateSize, hidden],
    outputNorm: [hidden, 0],
  };
  for (let index = 0; index < config.numLayers; index++) {
    for (const [key, [inFeatures, outFeatures]] of Object.entries(sizes) as [keyof BertLayerNames, [number, number]][]) {
      const names = key === 'qkv' ? BERT_LAYER_NAMES.qkv : [BERT_LAYER_NAMES[key]];
      for (const name of names) {
        const prefix = `encoder.layer.${index}.${name}`;
        shapes.push(...(outFeatures === 0 ? pair(prefix, [inFeatures], [inFeatures]) : pair(prefix, [outFeatures, inFeatures], [outFeatures])));
      }
    }
  }
  return shapes;
}

function loadBertWeights(weights: WeightSet, config: BertConfig): BertWeights {
  return tf.tidy(() => bertWeights(weights, config) as unknown as tf.TensorContainer) as unknown as BertWeights;
}

const noDropout: Dropout = (x) => x;

/** Word + position + token type embeddings, then LayerNorm → [batch·seq, hidden]. */
function embeddings(inputs: EncoderInputs, weights: BertWeights, config: BertConfig, variant: BertVariant, dropout: Dropout): tf.Tensor2D {
  const [batch, sequence] = inputs.inputIds.shape;
  const words = tf.gather(weights.wordEmbeddings, inputs.inputIds);
  const positions =
    variant.padIndex === undefined
      ? tf.slice(weights.positionEmbeddings, [0, 0], [sequence, config.hiddenSize])
      : tf.gather(weights.positionEmbeddings, tf.tensor2d(positionsPastPadding(inputs.ids, batch, sequence, variant.padIndex), [batch, sequence], 'int32'));
  const types = variant.tokenTypes ? tf.gather(weights.tokenTypeEmbeddings, inputs.tokenTypeIds) : tf.slice(weights.tokenTypeEmbeddings, [0, 0], [1, config.hiddenSize]);
  const summed = tf.add(tf.add(words, positions), types);
  return tf.reshape(dropout(layerNorm(summed, weights.embeddingNorm, config.layerNormEps), 'hidden'), [batch * sequence, config.hiddenSize]);
}

/**
 * One encoder layer: attention + residual + LayerNorm, then feed-forward + residual + LayerNorm. `bias` is added to
 * the scaled scores: the padding mask, plus a relative position bias for MPNet.
 */
export function bertLayer(
  x: tf.Tensor2D,
  bias: tf.Tensor4D,
  layer: BertLayerWeights,
  config: BertConfig,
  batch: number,
  sequence: number,
  dropout: Dropout = noDropout,
): tf.Tensor2D {
  const headSize = config.hiddenSize / config.numHeads;
  const context = attend(dense(x, layer.qkv), bias, { batch, sequence, heads: config.numHeads, headSize }, 1 / Math.sqrt(headSize), dropout);
  const projected = dropout(dense(context, layer.attentionOutput), 'hidden') as tf.Tensor2D;
  const attended = layerNorm(tf.add<tf.Tensor2D>(projected, x), layer.attentionNorm, config.layerNormEps);
  const intermediate = activation(dense(attended, layer.intermediate), config.activation);
  const output = dropout(dense(intermediate, layer.output), 'hidden') as tf.Tensor2D;
  return layerNorm(tf.add<tf.Tensor2D>(output, attended), layer.outputNorm, config.layerNormEps);
}

/**
 * The forward pass of a BERT-style encoder: last hidden states [batch, seq, hidden], with `dropout` for the training
 * mode. Call inside tf.tidy.
 */
export function bertStyleForward(inputs: EncoderInputs, weights: BertWeights, config: BertConfig, variant: BertVariant, dropout: Dropout = noDropout): tf.Tensor3D {
  const [batch, sequence] = inputs.inputIds.shape;
  const bias = maskBias(inputs.attentionMask);
  let hidden = embeddings(inputs, weights, config, variant, dropout);
  for (const layer of weights.layers) hidden = bertLayer(hidden, bias, layer, config, batch, sequence, dropout);
  return tf.reshape(hidden, [batch, sequence, config.hiddenSize]);
}

/** BERT's positions (0…seq−1) and token types. */
export const BERT_VARIANT: BertVariant = { padIndex: undefined, tokenTypes: true };

/**
 * BERT's forward pass on weights from {@link bertWeights}, with `dropout` for the training mode. Every op has a
 * tfjs gradient, so training runs it on tf.variables under tf.variableGrads. Call inside tf.tidy.
 */
export function bertForward(inputs: EncoderInputs, weights: BertWeights, config: BertConfig, dropout: Dropout = noDropout): tf.Tensor3D {
  return bertStyleForward(inputs, weights, config, BERT_VARIANT, dropout);
}

/** Loads a BERT-style encoder (BERT's parameter names and layer layout) numbering positions as `variant` says. */
export function loadBertStyleEncoder(model: ModelSpec, file: WeightSet, variant: BertVariant): LoadedEncoder {
  const config = readBertConfig(model);
  const weights = loadBertWeights(file, config);
  return {
    hiddenSize: config.hiddenSize,
    vocabSize: config.vocabSize,
    maxPositions: variant.padIndex === undefined ? config.maxPositionEmbeddings : config.maxPositionEmbeddings - variant.padIndex - 1,
    typeVocabSize: variant.tokenTypes ? config.typeVocabSize : undefined,
    forward: (inputs) => bertStyleForward(inputs, weights, config, variant, noDropout),
    dispose: () => tf.dispose(weights as unknown as tf.TensorContainer),
  };
}

/** BERT (and its fine-tunes: MiniLM, bge, e5, gte…): absolute positions 0…seq−1, token types fed. */
export const bertFamily: EncoderFamily = {
  name: 'bert',
  modelTypes: ['bert'],
  load: (model, weights) => loadBertStyleEncoder(model, weights, BERT_VARIANT),
};
