import type { DeviceReport } from './backend';
import type { SharedCacheTierStats } from './cache';
import type { EmbedderSettings, PresetName } from './config';
import type { Dtype, PoolingMode } from './types';

/** Per-call options of {@link EmbeddingHost.embed}. */
export interface EmbedOptions {
  /** L2-normalise (default: the config's normalize, else the model's modules.json: on when it has Normalize). */
  normalize?: boolean;
  /** Cut texts over the model's limit (default: the config's truncate, true). When false, such a text throws INPUT_TOO_LONG. */
  truncate?: boolean;
  /** Which end to cut. @default 'right' */
  truncationDirection?: 'right' | 'left';
  /** Matryoshka: keep the first N components (1..dimension), then normalise if normalize is on. */
  dimensions?: number;
  /** Text prepended to every input (e.g. a query instruction); wins over promptName. */
  prompt?: string;
  /**
   * A prompt of the model's config_sentence_transformers.json by name (`query`, `passage`…). Default: its
   * default_prompt_name, if any. An unknown name throws INVALID_INPUT.
   */
  promptName?: string;
  /** Aborts work not yet started (a disconnected client); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What {@link EmbeddingHost.embedWithDetails} returns. */
export interface EmbedResult {
  /** One vector per input, in input order. */
  embeddings: Float32Array[];
  /** Tokens per input, [CLS]/[SEP] included, after truncation. */
  tokenCounts: number[];
  /** Whether each input was cut. */
  truncated: boolean[];
  /** Milliseconds spent per stage for this call. */
  timings: { tokenizationMs: number; queueMs: number; inferenceMs: number; totalMs: number };
  /** How many inputs came from the cache. */
  cacheHits: number;
}

/** One token of {@link EmbeddingHost.tokenize}, with character offsets into the input. */
export interface TokenInfo {
  id: number;
  text: string;
  special: boolean;
  /** Offset of the first character (UTF-16 code units, as JS strings index). */
  start: number;
  /** Offset after the last character. */
  stop: number;
}

/** The loaded model, as /info and getStats() report it. */
export interface ModelInfo {
  id: string;
  repoId?: string;
  revision?: string;
  dir: string;
  dimension: number;
  maxSeqLength: number;
  pooling: PoolingMode;
  normalize: boolean;
  /** Named prompts the model defines (config_sentence_transformers.json). */
  prompts: Readonly<Record<string, string>>;
  /** The prompt used when a call names none. */
  defaultPromptName?: string;
  dtype: Dtype;
  backend: string;
  runtime: string;
  /** The device asked for, the one used, and why any was skipped (`auto` falling back to the CPU). */
  device: DeviceReport;
}

/** Counters since the generator was created (the seed's GeneratorStats, plus what we measure). */
export interface GeneratorStats {
  totalEmbeddings: number;
  totalBatches: number;
  totalTokens: number;
  cacheHits: number;
  cacheMisses: number;
  cacheSize: number;
  cacheEvictions: number;
  /** The shared cache tier (cacheRedisUrl), when there is one: its hits, misses, refused values, errors and state. */
  cacheTier?: SharedCacheTierStats;
  avgBatchTimeMs: number;
  errors: number;
  backend: string;
  runtime: string;
  dtype: Dtype;
  device: DeviceReport;
  preset: PresetName;
  /** What the preset or optimizeForConstraints chose, and why. */
  tuning: Record<string, unknown>;
}

/** Emitted after every inference batch (the server turns these into te_batch_* metrics). */
export interface BatchEvent {
  size: number;
  /** Padded tokens: longest × size. */
  paddedTokens: number;
  /** Real tokens. */
  tokens: number;
  inferenceMs: number;
}

/** A prompt for tokenize/countTokens, as embed() takes it: literal text, or a name of the model's prompts. */
export interface PromptOptions {
  prompt?: string;
  promptName?: string;
}

/** A value, or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Something that embeds for me: the facade's EmbeddingGenerator on this thread, or a generator on a worker thread
 * (the server's ModelHost). The server and the distributed worker program against this, so where the model runs
 * is the host's business. tokenize, decode and countTokens answer at once in-thread and later across a thread:
 * callers await them.
 */
export interface EmbeddingHost {
  readonly model: ModelInfo;
  readonly settings: Readonly<EmbedderSettings>;
  /** False once the host cannot serve any more (disposed, or the thread it runs on has stopped). */
  readonly alive: boolean;
  /** One vector per text, in order. */
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  /** Vectors with token counts, truncation flags, timings and cache hits. */
  embedWithDetails(texts: string[], options?: EmbedOptions): Promise<EmbedResult>;
  /** Tokens with ids, text and offsets, truncated as embed() truncates. */
  tokenize(texts: string[], options?: PromptOptions & { addSpecialTokens?: boolean }): Awaitable<TokenInfo[][]>;
  /** Token ids back to text. */
  decode(ids: number[][], options?: { skipSpecialTokens?: boolean }): Awaitable<string[]>;
  /** Tokens per text after truncation, specials included. */
  countTokens(texts: string[], options?: PromptOptions): Awaitable<number[]>;
  /** Counters as of now (a host on another thread: as of its last batch or answer; never waits). */
  getStats(): GeneratorStats;
  /** Inputs accepted and not answered yet (waiting or running). */
  queuedInputs(): number;
  /** Subscribes to batch events; returns the unsubscribe function. */
  onBatch(listener: (event: BatchEvent) => void): () => void;
  /** Releases the model (flushing a persistent cache). Safe to call twice. */
  dispose(): Promise<void>;
}
