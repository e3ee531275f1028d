import { EmbedderError, type ModelSpec } from '@embedder-rag/core';

/** The feed-forward activations this encoder implements, by their config.json names. */
export type HiddenActivation = 'gelu' | 'gelu_new' | 'relu';

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

const ACTIVATIONS: Readonly<Record<string, HiddenActivation>> = {
  gelu: 'gelu',
  // tanh approximations of GELU, as transformers names them.
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  gelu_fast: 'gelu_new',
  relu: 'relu',
};

/** Architectures that share BERT's encoder layout and parameter names. */
const BERT_LIKE = ['bert'];

/**
 * Reads the BERT hyper-parameters from a model's config.json.
 * @throws EmbedderError UNSUPPORTED for a non-BERT architecture or an unknown activation, MODEL_INVALID for a
 * missing or non-positive size, naming the field.
 */
export function readBertConfig(model: ModelSpec): BertConfig {
  const config = model.config;
  const architecture = String(config.model_type ?? model.architecture);
  if (!BERT_LIKE.includes(architecture)) {
    throw new EmbedderError('UNSUPPORTED', `the tfjs backend runs BERT encoders; ${model.dir} is a '${architecture}' model`, {
      details: { dir: model.dir, architecture },
    });
  }
  const positive = (field: string, fallback?: number): number => {
    const value = config[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new EmbedderError('MODEL_INVALID', `${model.dir}/config.json: '${field}' must be a positive integer (got ${JSON.stringify(value)})`, {
        details: { dir: model.dir, field },
      });
    }
    return value;
  };
  const activationName = String(config.hidden_act ?? 'gelu');
  const activation = ACTIVATIONS[activationName];
  if (!activation) {
    throw new EmbedderError('UNSUPPORTED', `${model.dir}/config.json: hidden_act '${activationName}' is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  const bertConfig: BertConfig = {
    vocabSize: positive('vocab_size'),
    hiddenSize: positive('hidden_size'),
    numLayers: positive('num_hidden_layers'),
    numHeads: positive('num_attention_heads'),
    intermediateSize: positive('intermediate_size'),
    maxPositionEmbeddings: positive('max_position_embeddings', 512),
    typeVocabSize: positive('type_vocab_size', 2),
    layerNormEps: typeof config.layer_norm_eps === 'number' ? config.layer_norm_eps : 1e-12,
    activation,
  };
  if (bertConfig.hiddenSize % bertConfig.numHeads !== 0) {
    throw new EmbedderError('MODEL_INVALID', `${model.dir}/config.json: hidden_size ${bertConfig.hiddenSize} is not a multiple of num_attention_heads ${bertConfig.numHeads}`);
  }
  return bertConfig;
}
