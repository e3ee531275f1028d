import { Option, type Command } from 'commander';
import { EmbedderConfig, type Device, type Dtype, type EmbedderSettings } from '@embedder-rag/core';
import { parseCount } from './parse';

/** The model and runtime flags every model-loading command takes (after commander parsed them). */
export interface ModelFlags {
  model?: string;
  modelPath?: string;
  dtype?: Dtype;
  device?: Device;
  backend?: string;
  batchSize?: number;
  /** false only when --no-normalize was given. */
  normalize?: boolean;
  cachePath?: string;
  cacheSize?: number;
  threads?: number;
  replicas?: number;
  /** false only when --no-memory-arena was given. */
  memoryArena?: boolean;
  offline?: boolean;
  verbose?: boolean;
}

/** Adds the model flags to a command. Defaults stay undefined so EMBEDDER_* variables apply when a flag is absent. */
export function addModelOptions(command: Command): Command {
  return command
    .option('-m, --model <name|path>', 'model id, Hub repo id, folder name under the model path, or a folder (default all-minilm-l6-v2)')
    .option('--model-path <dir>', 'folder holding model folders (default EMBEDDER_MODEL_PATH)')
    .addOption(
      new Option('--dtype <dtype>', 'weights: fp32, q8 (row-wise int8: faster, same vector in any batch) or q8-dynamic (per-tensor int8 file)').choices([
        'fp32',
        'q8',
        'q8-dynamic',
      ]),
    )
    .addOption(new Option('--device <device>', 'where the onnx backend runs: cpu (default), auto (GPU if one loads, else CPU, saying why), cuda, webgpu').choices(['auto', 'cpu', 'cuda', 'webgpu']))
    .addOption(new Option('--backend <name>', 'inference backend (default onnx)').choices(['onnx', 'tfjs', 'auto']))
    .option('-b, --batch-size <n>', 'most texts in one inference batch (default 32)', parseCount('--batch-size'))
    .option('--no-normalize', 'do not L2-normalise the vectors')
    .option('--cache-path <file>', 'persistent embedding cache file')
    .option('--cache-size <n>', 'in-memory cache entries, 0 = off (default 10000)', parseCount('--cache-size', 0))
    .option('--threads <n>', 'inference threads (default: all cores)', parseCount('--threads'))
    .option('--replicas <n>', 'model copies running batches side by side, sharing the threads (default 1; more is faster on short texts and holds more memory)', parseCount('--replicas'))
    .option('--no-memory-arena', "release the runtime's memory between batches (less memory, slower)")
    .option('--offline', 'never download a model')
    .option('-v, --verbose', 'log progress details, and stack traces on errors');
}

/** --prompt-name / --prompt of the commands that embed texts. */
export interface PromptFlags {
  promptName?: string;
  prompt?: string;
}

/** Adds --prompt-name and --prompt to a command that embeds texts. */
export function addPromptOptions(command: Command): Command {
  return command
    .option('--prompt-name <name>', "a prompt of the model's config_sentence_transformers.json put before every text (e.g. query, passage)")
    .option('--prompt <text>', 'text put before every text (wins over --prompt-name)');
}

/** The library's per-call prompt options from the flags. */
export function promptOptions(flags: PromptFlags): { prompt?: string; promptName?: string } {
  return {
    ...(flags.prompt === undefined ? {} : { prompt: flags.prompt }),
    ...(flags.promptName === undefined ? {} : { promptName: flags.promptName }),
  };
}

/**
 * The config of a run: defaults, then EMBEDDER_* variables (EmbedderConfig.withEnv), then flags, so a flag beats
 * the environment. Invalid values throw INVALID_CONFIG naming the setting.
 */
export function buildConfig(flags: ModelFlags, env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
  const fromEnv = EmbedderConfig.create().withEnv(env).settings;
  const overrides: Partial<EmbedderSettings> = {};
  if (flags.model !== undefined) overrides.model = flags.model;
  if (flags.modelPath !== undefined) overrides.modelPath = flags.modelPath;
  if (flags.dtype !== undefined) overrides.dtype = flags.dtype;
  if (flags.device !== undefined) overrides.device = flags.device;
  if (flags.backend !== undefined) overrides.backend = flags.backend;
  if (flags.batchSize !== undefined) overrides.batchSize = flags.batchSize;
  if (flags.normalize === false) overrides.normalize = false;
  if (flags.cachePath !== undefined) overrides.cachePath = flags.cachePath;
  if (flags.cacheSize !== undefined) overrides.cacheSize = flags.cacheSize;
  if (flags.threads !== undefined) overrides.threads = flags.threads;
  if (flags.replicas !== undefined) overrides.replicas = flags.replicas;
  if (flags.memoryArena === false) overrides.memoryArena = false;
  if (flags.offline === true) overrides.offline = true;
  return EmbedderConfig.create({ ...fromEnv, ...overrides });
}
