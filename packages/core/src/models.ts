import type { PoolingMode } from './types';

/** Ids of the models embedder knows by name (the seed's ModelType variants). */
export type BuiltinModelId =
  | 'all-minilm-l6-v2'
  | 'bert-base-uncased'
  | 'sentence-t5-base'
  | 'bge-small-en-v1.5'
  | 'multilingual-e5-small'
  | 'all-mpnet-base-v2';

/** A model of your own: a Hugging Face-layout folder (the seed's ModelType::Custom). */
export interface CustomModel {
  name: string;
  /** The model folder. */
  path: string;
  /** Output dimension; checked against the model when it loads. */
  dimension: number;
}

/** Which model to run: a built-in id, a Hub repo id / folder name / path, or a custom model. */
export type ModelType = BuiltinModelId | CustomModel | (string & {});

/** The seed's ModelType names, for code that reads like the original API. */
export const ModelType = {
  AllMiniLmL6V2: 'all-minilm-l6-v2',
  BertBaseUncased: 'bert-base-uncased',
  SentenceT5Base: 'sentence-t5-base',
  BgeSmallEnV15: 'bge-small-en-v1.5',
  MultilingualE5Small: 'multilingual-e5-small',
  AllMpnetBaseV2: 'all-mpnet-base-v2',
  custom: (name: string, path: string, dimension: number): CustomModel => ({ name, path, dimension }),
} as const;

/** What the table knows about a built-in model before its files are read. */
export interface BuiltinModelInfo {
  id: BuiltinModelId;
  /** Hugging Face repo id. */
  repoId: string;
  /** Folder name under EMBEDDER_MODEL_PATH (the repo's name). */
  folderName: string;
  dimension: number;
  maxSeqLength: number;
  pooling: PoolingMode;
  normalize: boolean;
  /**
   * Prompts the model was trained with, used when its folder's config_sentence_transformers.json defines none
   * (multilingual-e5's `query: ` / `passage: `).
   */
  prompts?: Readonly<Record<string, string>>;
}

/** The model table, as data. */
export const MODEL_TABLE: Readonly<Record<BuiltinModelId, BuiltinModelInfo>> = {
  'all-minilm-l6-v2': {
    id: 'all-minilm-l6-v2',
    repoId: 'sentence-transformers/all-MiniLM-L6-v2',
    folderName: 'all-MiniLM-L6-v2',
    dimension: 384,
    maxSeqLength: 256,
    pooling: 'mean',
    normalize: true,
  },
  'bert-base-uncased': {
    id: 'bert-base-uncased',
    repoId: 'google-bert/bert-base-uncased',
    folderName: 'bert-base-uncased',
    dimension: 768,
    maxSeqLength: 512,
    pooling: 'mean',
    normalize: false,
  },
  'sentence-t5-base': {
    id: 'sentence-t5-base',
    repoId: 'sentence-transformers/sentence-t5-base',
    folderName: 'sentence-t5-base',
    dimension: 768,
    maxSeqLength: 256,
    pooling: 'mean',
    normalize: true,
  },
  'bge-small-en-v1.5': {
    id: 'bge-small-en-v1.5',
    repoId: 'BAAI/bge-small-en-v1.5',
    folderName: 'bge-small-en-v1.5',
    dimension: 384,
    maxSeqLength: 512,
    pooling: 'cls',
    normalize: true,
  },
  'multilingual-e5-small': {
    id: 'multilingual-e5-small',
    repoId: 'intfloat/multilingual-e5-small',
    folderName: 'multilingual-e5-small',
    dimension: 384,
    maxSeqLength: 512,
    pooling: 'mean',
    normalize: true,
    prompts: { query: 'query: ', passage: 'passage: ' },
  },
  'all-mpnet-base-v2': {
    id: 'all-mpnet-base-v2',
    repoId: 'sentence-transformers/all-mpnet-base-v2',
    folderName: 'all-mpnet-base-v2',
    dimension: 768,
    maxSeqLength: 384,
    pooling: 'mean',
    normalize: true,
  },
};

/** The default model. */
export const DEFAULT_MODEL: BuiltinModelId = 'all-minilm-l6-v2';

/**
 * Finds a built-in model by its id, repo id or folder name, case-insensitively
 * (`all-minilm-l6-v2`, `sentence-transformers/all-MiniLM-L6-v2` and `all-MiniLM-L6-v2` are one model).
 */
export function findBuiltinModel(name: string): BuiltinModelInfo | undefined {
  const wanted = name.toLowerCase();
  return Object.values(MODEL_TABLE).find(
    (info) =>
      info.id === wanted ||
      info.repoId.toLowerCase() === wanted ||
      info.folderName.toLowerCase() === wanted ||
      // bert-base-uncased is still addressed by its old, unprefixed repo id.
      info.repoId.split('/')[1]?.toLowerCase() === wanted,
  );
}

/**
 * config.json `model_type`s embedder loads: encoders whose ONNX export takes a subset of input_ids / attention_mask /
 * token_type_ids / position_ids and whose output is the token vectors (the fixtures cover bert, xlm-roberta, mpnet
 * and t5). A backend may run fewer: it says which with UNSUPPORTED.
 */
export const SUPPORTED_MODEL_TYPES: readonly string[] = ['bert', 'distilbert', 'roberta', 'xlm-roberta', 'mpnet', 't5'];

/** A 2_Dense-style linear layer after pooling (sentence-t5), as its folder describes it. */
export interface DenseLayerSpec {
  /** Weight file of the layer (model.safetensors or pytorch_model.bin in the module's folder). */
  weightsPath: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  /** Activation after the layer, as sentence-transformers names it (e.g. `torch.nn.modules.linear.Identity`). */
  activation: string;
}

/**
 * A model folder, resolved and read: everything a backend and the tokenizer need to run it.
 * Made by `@embedder-rag/models` `loadModelSpec(dir)`.
 */
export interface ModelSpec {
  /** The name the model was asked for (or the folder's name). */
  id: string;
  /** Hugging Face repo id, when known. */
  repoId?: string;
  /** Revision (commit sha) when resolved from the Hugging Face cache. */
  revision?: string;
  /** The local folder in Hugging Face layout. */
  dir: string;
  /** `model_type` from config.json (`bert`, `t5`, …). */
  architecture: string;
  /** Hidden size of the transformer (config.json): the size of a pooled vector. */
  hiddenSize: number;
  /** Output dimension of the whole pipeline: after pooling and any Dense layers. */
  dimension: number;
  /** Maximum tokens per text, [CLS] and [SEP] included (sentence_bert_config.json or tokenizer_config.json). */
  maxSeqLength: number;
  pooling: PoolingMode;
  /** Whether modules.json ends with Normalize. */
  normalize: boolean;
  /** Dense layers after pooling, in order. */
  dense: DenseLayerSpec[];
  /** Whether prompt tokens count in pooling (1_Pooling/config.json include_prompt; default true). */
  includePrompt: boolean;
  /** Named prompts (config_sentence_transformers.json `prompts`, else the built-in table's). */
  prompts: Readonly<Record<string, string>>;
  /** The prompt used when a call names none (config_sentence_transformers.json `default_prompt_name`). */
  defaultPromptName?: string;
  /** config.json, parsed. */
  config: Readonly<Record<string, unknown>>;
}
