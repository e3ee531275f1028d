import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  EmbedderError,
  findBuiltinModel,
  parseDenseActivation,
  SUPPORTED_MODEL_TYPES,
  type DenseLayerSpec,
  type ModelSpec,
  type PoolingMode,
} from '@embedder-rag/core';
import { positiveInt, readJsonIfExists, type JsonObject } from './json-file';
import { poolingConfigPath, readModules, type SentenceModule } from './modules';
import { parsePoolingConfig } from './pooling-config';

/** Names a {@link loadModelSpec} result carries besides what the folder says. */
export interface ModelSpecMeta {
  /** The name the model was asked for; default: the folder's name. */
  id?: string;
  /** Hugging Face repo id, when known. */
  repoId?: string;
  /** Commit sha, when the folder is a Hugging Face cache snapshot. */
  revision?: string;
}

/** Used when neither the sentence-transformers config nor the tokenizer config gives a length. */
export const DEFAULT_MAX_SEQ_LENGTH = 512;

// transformers writes int(1e30) as model_max_length when a tokenizer has no limit; anything this large means "none".
const ABSURD_LENGTH = 1_000_000;

/** Weight files a Dense module folder may hold, in order of preference. */
export const DENSE_WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

/**
 * Reads a Hugging Face / sentence-transformers model folder into a {@link ModelSpec}: architecture and hidden size
 * (config.json), max tokens, pooling (1_Pooling/config.json, mean when absent), Normalize and Dense modules
 * (modules.json). Throws EmbedderError MODEL_NOT_FOUND when the folder does not exist, MODEL_INVALID naming the
 * file when config.json / tokenizer.json is missing or corrupt, UNSUPPORTED for pooling modes embedder does not run.
 */
export async function loadModelSpec(dir: string, meta: ModelSpecMeta = {}): Promise<ModelSpec> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new EmbedderError('MODEL_NOT_FOUND', `model folder ${root} does not exist`, { details: { dir: root } });
  }
  const configFile = join(root, 'config.json');
  const config = await readJsonIfExists(configFile);
  if (config === undefined) {
    throw new EmbedderError('MODEL_INVALID', `${root} has no config.json`, { details: { file: configFile } });
  }
  if (!existsSync(join(root, 'tokenizer.json'))) {
    throw new EmbedderError('MODEL_INVALID', `${root} has no tokenizer.json`, {
      details: { file: join(root, 'tokenizer.json') },
    });
  }
  const architecture = config.model_type;
  if (typeof architecture !== 'string' || architecture === '') {
    throw new EmbedderError('MODEL_INVALID', `${configFile} has no "model_type"`, { details: { file: configFile } });
  }
  if (!SUPPORTED_MODEL_TYPES.includes(architecture)) {
    throw new EmbedderError(
      'UNSUPPORTED',
      `${configFile}: "model_type" '${architecture}' is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
      { details: { file: configFile, field: 'model_type', modelType: architecture, supported: SUPPORTED_MODEL_TYPES } },
    );
  }
  // BERT-likes say hidden_size, T5 d_model, DistilBERT dim.
  const hiddenSize = positiveInt(config.hidden_size) ?? positiveInt(config.d_model) ?? positiveInt(config.dim);
  if (hiddenSize === undefined) {
    throw new EmbedderError('MODEL_INVALID', `${configFile} has no "hidden_size" or "d_model"`, {
      details: { file: configFile },
    });
  }

  const modules = await readModules(root);
  const maxSeqLength = await readMaxSeqLength(root, config);
  const pooling = await readPooling(root, modules);
  const dense = await readDenseLayers(root, modules, hiddenSize);
  const lastDense = dense.at(-1);
  const prompts = await readPrompts(root, meta.id);

  const spec: ModelSpec = {
    id: meta.id ?? basename(root),
    dir: root,
    architecture,
    hiddenSize,
    dimension: lastDense?.outFeatures ?? pooling.dimension ?? hiddenSize,
    maxSeqLength,
    pooling: pooling.mode,
    normalize: modules?.some((module) => module.kind === 'normalize') ?? false,
    dense,
    includePrompt: pooling.includePrompt,
    prompts: prompts.prompts,
    config,
  };
  if (prompts.defaultPromptName !== undefined) spec.defaultPromptName = prompts.defaultPromptName;
  if (meta.repoId !== undefined) spec.repoId = meta.repoId;
  if (meta.revision !== undefined) spec.revision = meta.revision;
  return spec;
}

/**
 * sentence-transformers' rule: `max_seq_length` from sentence_bert_config.json, else the tokenizer's
 * `model_max_length`, never beyond the position embeddings; 512 when nothing says.
 */
async function readMaxSeqLength(root: string, config: JsonObject): Promise<number> {
  const sbert = await readJsonIfExists(join(root, 'sentence_bert_config.json'));
  let length = positiveInt(sbert?.max_seq_length);
  if (length === undefined) {
    const tokenizerConfig = await readJsonIfExists(join(root, 'tokenizer_config.json'));
    const fromTokenizer = positiveInt(tokenizerConfig?.model_max_length);
    if (fromTokenizer !== undefined && fromTokenizer < ABSURD_LENGTH) length = fromTokenizer;
  }
  const positions = positiveInt(config.max_position_embeddings);
  if (length === undefined) length = positions ?? DEFAULT_MAX_SEQ_LENGTH;
  return positions === undefined ? length : Math.min(length, positions);
}

async function readPooling(
  root: string,
  modules: readonly SentenceModule[] | undefined,
): Promise<{ mode: PoolingMode; dimension?: number; includePrompt: boolean }> {
  const file = join(root, poolingConfigPath(modules));
  const config = await readJsonIfExists(file);
  // sentence-transformers wraps a plain Hugging Face model with mean pooling.
  if (config === undefined) return { mode: 'mean', includePrompt: true };
  return parsePoolingConfig(config, file);
}

/**
 * `prompts` and `default_prompt_name` of config_sentence_transformers.json; a built-in model's table prompts when the
 * folder defines none. Throws MODEL_INVALID naming the file when default_prompt_name names no prompt.
 */
async function readPrompts(root: string, id: string | undefined): Promise<{ prompts: Record<string, string>; defaultPromptName?: string }> {
  const file = join(root, 'config_sentence_transformers.json');
  const config = await readJsonIfExists(file);
  const prompts: Record<string, string> = {};
  const raw = config?.prompts;
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    for (const [name, text] of Object.entries(raw)) {
      if (typeof text !== 'string') {
        throw new EmbedderError('MODEL_INVALID', `${file}: prompt '${name}' is not a string`, { details: { file, field: `prompts.${name}` } });
      }
      prompts[name] = text;
    }
  }
  const builtin = id === undefined ? undefined : findBuiltinModel(id) ?? findBuiltinModel(basename(root));
  if (Object.keys(prompts).length === 0 && builtin?.prompts) Object.assign(prompts, builtin.prompts);
  const defaultName = config?.default_prompt_name;
  if (typeof defaultName !== 'string') return { prompts };
  if (!(defaultName in prompts)) {
    throw new EmbedderError('MODEL_INVALID', `${file}: "default_prompt_name" '${defaultName}' is not one of its prompts (${Object.keys(prompts).join(', ') || 'none'})`, {
      details: { file, field: 'default_prompt_name' },
    });
  }
  return { prompts, defaultPromptName: defaultName };
}

async function readDenseLayers(
  root: string,
  modules: readonly SentenceModule[] | undefined,
  pooledSize: number,
): Promise<DenseLayerSpec[]> {
  const layers: DenseLayerSpec[] = [];
  let width = pooledSize;
  for (const module of modules ?? []) {
    if (module.kind !== 'dense') continue;
    const folder = join(root, module.path);
    const file = join(folder, 'config.json');
    const config = await readJsonIfExists(file);
    if (config === undefined) {
      throw new EmbedderError('MODEL_INVALID', `${folder} (a Dense module in modules.json) has no config.json`, {
        details: { file },
      });
    }
    const inFeatures = positiveInt(config.in_features);
    const outFeatures = positiveInt(config.out_features);
    if (inFeatures === undefined || outFeatures === undefined) {
      throw new EmbedderError('MODEL_INVALID', `${file} needs positive "in_features" and "out_features"`, {
        details: { file },
      });
    }
    if (inFeatures !== width) {
      throw new EmbedderError(
        'MODEL_INVALID',
        `${file}: "in_features" ${inFeatures} differs from the ${width} features that reach it (${layers.length === 0 ? 'the pooled size' : 'the previous Dense layer\'s out_features'})`,
        { details: { file, field: 'in_features', inFeatures, expected: width } },
      );
    }
    const weights = DENSE_WEIGHT_FILES.map((name) => join(folder, name)).find((path) => existsSync(path));
    if (weights === undefined) {
      throw new EmbedderError('MODEL_INVALID', `${folder} (a Dense module in modules.json) has no weights: expected ${DENSE_WEIGHT_FILES.join(' or ')}`, {
        details: { dir: folder, expected: DENSE_WEIGHT_FILES },
      });
    }
    // sentence-transformers' Dense defaults to tanh.
    const activation = typeof config.activation_function === 'string' ? config.activation_function : 'torch.nn.modules.activation.Tanh';
    parseDenseActivation(activation, file);
    layers.push({ weightsPath: weights, inFeatures, outFeatures, bias: config.bias !== false, activation });
    width = outFeatures;
  }
  return layers;
}
