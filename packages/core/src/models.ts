import type { PoolingMode } from './types';

/** Ids of the models embedder knows by name (the seed's ModelType variants). */
export type BuiltinModelId = 'all-minilm-l6-v2' | 'bert-base-uncased' | 'sentence-t5-base';

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

/** A 2_Dense-style linear layer after pooling (sentence-t5). */
export interface DenseLayerSpec {
  /** Weight file (safetensors) of the layer. */
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
  /** Hidden size of the transformer (config.json). */
  hiddenSize: number;
  /** Output dimension after pooling and any Dense layers. */
  dimension: number;
  /** Maximum tokens per text, [CLS] and [SEP] included (sentence_bert_config.json or tokenizer_config.json). */
  maxSeqLength: number;
  pooling: PoolingMode;
  /** Whether modules.json ends with Normalize. */
  normalize: boolean;
  /** Dense layers after pooling, in order. */
  dense: DenseLayerSpec[];
  /** config.json, parsed. */
  config: Readonly<Record<string, unknown>>;
}
