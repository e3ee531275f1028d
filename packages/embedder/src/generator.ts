import {
  EmbedderConfig,
  EmbedderError,
  l2NormalizeRows,
  noopLogger,
  warmupSession,
  withPostPooling,
  type BackendRegistry,
  type BackendSession,
  type Chunk,
  type Device,
  type DeviceReport,
  type EmbeddedChunk,
  type EmbedderSettings,
  type EmbeddingHost,
  type EmbeddingCache,
  type Logger,
  type SharedCacheTier,
  type ModelSpec,
} from '@embedder-rag/core';
import { loadModelSpec, resolveModel, type DownloadProgress } from '@embedder-rag/models';
import { loadTokenizer, type TextEncoding, type TextTokenizer } from '@embedder-rag/tokenizer';
import { loadDenseLayers } from '@embedder-rag/weights';
import { batchCosineSimilarity, cosineSimilarity, findTopK, kmeans, type KMeansResult } from '@embedder-rag/similarity';
import { cacheKey, fingerprintFile } from '@embedder-rag/cache';
import { openCache, openSharedTier } from './cache-setup';
import { calibrate } from './calibrate';
import { InferenceQueue } from './inference-queue';
import { validateChunks, validateOptions, validateTexts } from './inputs';
import { createDefaultRegistry } from './registry';
import { StatsCollector } from './stats';
import type { BatchEvent, EmbedOptions, EmbedResult, GeneratorStats, ModelInfo, TokenInfo } from './types';

/** Options of {@link EmbeddingGenerator.create} beyond the config. */
export interface GeneratorOptions {
  /** Backends to choose from. @default createDefaultRegistry() */
  registry?: BackendRegistry;
  logger?: Logger;
  /** Called while model files download (the CLI draws a progress bar with it). */
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Most inputs waiting or running before embed() fails with OVERLOADED. @default unbounded */
  maxQueueInputs?: number;
  /** Shares tokenizers between generators of one process (ModelManager passes its TokenizerCache). */
  tokenizers?: { load(dir: string, maxSeqLength: number): Promise<TextTokenizer> };
}

/** The main interface: texts or chunks in, vectors out (the seed's EmbeddingGenerator). */
export class EmbeddingGenerator implements EmbeddingHost {
  readonly settings: Readonly<EmbedderSettings>;
  readonly model: ModelInfo;
  readonly #spec: ModelSpec;
  readonly #session: BackendSession;
  readonly #tokenizer: TextTokenizer;
  readonly #cache: EmbeddingCache | undefined;
  /** The cache shared between processes (Redis), asked for what #cache misses. */
  readonly #sharedTier: SharedCacheTier | undefined;
  readonly #weightsFingerprint: string;
  readonly #queue: InferenceQueue;
  readonly #stats: StatsCollector;
  readonly #batchListeners = new Set<(event: BatchEvent) => void>();
  #disposed = false;

  private constructor(parts: {
    settings: EmbedderSettings;
    spec: ModelSpec;
    session: BackendSession;
    tokenizer: TextTokenizer;
    cache: EmbeddingCache | undefined;
    sharedTier: SharedCacheTier | undefined;
    weightsFingerprint: string;
    maxQueueInputs?: number;
    tuning: Record<string, unknown>;
  }) {
    this.settings = parts.settings;
    this.#spec = parts.spec;
    this.#session = parts.session;
    this.#tokenizer = parts.tokenizer;
    this.#cache = parts.cache;
    this.#sharedTier = parts.sharedTier;
    this.#weightsFingerprint = parts.weightsFingerprint;
    this.model = {
      id: parts.spec.id,
      ...(parts.spec.repoId === undefined ? {} : { repoId: parts.spec.repoId }),
      ...(parts.spec.revision === undefined ? {} : { revision: parts.spec.revision }),
      dir: parts.spec.dir,
      dimension: parts.session.dimension,
      maxSeqLength: parts.tokenizer.maxSeqLength,
      pooling: parts.spec.pooling,
      normalize: parts.spec.normalize,
      prompts: parts.spec.prompts,
      ...(parts.spec.defaultPromptName === undefined ? {} : { defaultPromptName: parts.spec.defaultPromptName }),
      dtype: parts.session.info.dtype,
      backend: parts.session.info.backend,
      runtime: parts.session.info.runtime,
      device: parts.session.info.deviceReport ?? deviceReportOf(parts.settings.device, parts.session.info.device),
    };
    this.#stats = new StatsCollector(this.model, parts.settings.preset, parts.tuning);
    this.#queue = new InferenceQueue(
      parts.session,
      parts.tokenizer,
      {
        batchSize: parts.settings.batchSize,
        maxBatchTokens: parts.settings.maxBatchTokens,
        maxPaddingRatio: parts.settings.maxPaddingRatio,
        batchOverheadTokens: parts.settings.batchOverheadTokens,
        ...(parts.maxQueueInputs === undefined ? {} : { maxQueueInputs: parts.maxQueueInputs }),
        ...(parts.settings.constraints?.maxLatencyMs === undefined ? {} : { targetLatencyMs: parts.settings.constraints.maxLatencyMs }),
      },
      (event) => {
        this.#stats.recordBatch(event);
        for (const listener of this.#batchListeners) listener(event);
      },
    );
  }

  /**
   * Resolves the model (explicit path, EMBEDDER_MODEL_PATH, the Hugging Face cache, then the Hub), loads the
   * tokenizer and a backend session, and warms it up.
   */
  static async create(config: EmbedderConfig | Partial<EmbedderSettings> = new EmbedderConfig(), options: GeneratorOptions = {}): Promise<EmbeddingGenerator> {
    const configured = (config instanceof EmbedderConfig ? config : new EmbedderConfig(config)).settings;
    const logger = options.logger ?? noopLogger;
    const registry = options.registry ?? (await createDefaultRegistry({ logger }));
    const backend = await registry.resolve(configured.backend);
    const resolved = await resolveModel(configured.model, {
      ...(configured.modelPath === undefined ? {} : { modelPath: configured.modelPath }),
      offline: configured.offline,
      files: backend.weightFiles(configured.dtype),
      ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
      logger,
    });
    const spec = await loadModelSpec(resolved.dir, resolved);
    if (typeof configured.model === 'object' && configured.model.dimension !== spec.dimension) {
      throw new EmbedderError('MODEL_INVALID', `model '${configured.model.name}' was declared with dimension ${configured.model.dimension} but ${spec.dir} produces ${spec.dimension}`);
    }
    const tokenizer = await (options.tokenizers?.load(spec.dir, spec.maxSeqLength) ?? loadTokenizer(spec.dir, { maxSeqLength: spec.maxSeqLength }));
    // optimizeForConstraints: measure dtypes, token budgets and threads on this machine, then keep the chosen session.
    const calibration = configured.preset === 'constrained' && configured.constraints !== undefined
      ? await calibrate({ backend, spec, tokenizer, settings: configured, logger })
      : undefined;
    const settings = calibration?.settings ?? configured;
    const pooledSession = calibration?.session ?? await backend.createSession(spec, {
      dtype: settings.dtype,
      device: settings.device,
      intraOpThreads: settings.threads,
      replicas: settings.replicas,
      memoryArena: settings.memoryArena,
      tokenize: (texts) => tokenizer.encodeBatch(texts).batch,
      logger,
    });
    let session = pooledSession;
    let sharedTier: SharedCacheTier | undefined;
    try {
      // Dense modules after pooling run here, the same for every backend; the vector's size is what they produce.
      session = withPostPooling(pooledSession, await loadDenseLayers(spec.dense));
      await warmupSession(session, tokenizer.encodeBatch(['warm-up']).batch);
      // A shared tier serves replicas on other machines, whose copies of the weights have other mtimes.
      const weightsFingerprint = await fingerprintFile(session.info.modelFile, { includeMtime: settings.cacheRedisUrl === undefined });
      sharedTier = await openSharedTier(settings, logger);
      const cache = openCache(settings, logger);
      logger.info('embedder ready', { model: spec.id, dir: spec.dir, backend: session.info.backend, runtime: session.info.runtime, dtype: settings.dtype, device: session.info.deviceReport ?? session.info.device });
      return new EmbeddingGenerator({
        settings,
        spec,
        session,
        tokenizer,
        cache,
        sharedTier,
        weightsFingerprint,
        ...(options.maxQueueInputs === undefined ? {} : { maxQueueInputs: options.maxQueueInputs }),
        tuning: { preset: settings.preset, dtype: settings.dtype, batchSize: settings.batchSize, maxBatchTokens: settings.maxBatchTokens, threads: settings.threads, replicas: settings.replicas, memoryArena: settings.memoryArena, ...(settings.constraints ? { constraints: settings.constraints } : {}), ...(calibration ? { calibration: calibration.report } : {}) },
      });
    } catch (error) {
      await sharedTier?.close();
      await pooledSession.dispose();
      throw error;
    }
  }

  /** One vector per text, in input order. A text found in the cache skips tokenisation and inference. */
  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    return (await this.#checkedEmbed(texts, options, false)).embeddings;
  }

  /**
   * Vectors plus token counts, truncation flags and timings. Cached texts are still tokenised here (not run), so
   * their token counts are real (OpenAI's usage counts them).
   */
  async embedWithDetails(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    return this.#checkedEmbed(texts, options, true);
  }

  async #checkedEmbed(texts: string[], options: EmbedOptions, countCachedTokens: boolean): Promise<EmbedResult> {
    this.#assertOpen();
    try {
      validateTexts(texts);
      validateOptions(options, this.model.dimension);
      return await this.#embed(texts, options, countCachedTokens);
    } catch (error) {
      this.#stats.recordError();
      throw error;
    }
  }

  async #embed(texts: readonly string[], options: EmbedOptions, countCachedTokens: boolean): Promise<EmbedResult> {
    const started = performance.now();
    // A call's choice, else the config's, else the model's pipeline (a Normalize module in modules.json).
    const normalize = options.normalize ?? this.settings.normalize ?? this.#spec.normalize;
    const truncate = options.truncate ?? this.settings.truncate;
    const direction = options.truncationDirection ?? 'right';
    const prompt = this.#prompt(options);
    const promptLength = prompt === '' || this.#spec.includePrompt ? 0 : this.#tokenizer.promptLength(prompt);
    const embeddings = new Array<Float32Array>(texts.length);
    const tokenCounts = new Array<number>(texts.length).fill(0);
    const truncated = new Array<boolean>(texts.length).fill(false);

    // Cache lookups first; texts repeated within the call are computed once.
    const keyed = this.#cache !== undefined || this.#sharedTier !== undefined;
    const keys = texts.map((text) => (keyed ? this.#key(text, { ...options, normalize, truncate, truncationDirection: direction, prompt }) : ''));
    const firstIndexOfKey = new Map<string, number>();
    let toCompute: number[] = [];
    const duplicates: Array<[number, number]> = [];
    let cacheHits = 0;
    texts.forEach((_, index) => {
      if (keyed) {
        const hit = this.#cache?.get(keys[index]!);
        if (hit) {
          embeddings[index] = hit;
          cacheHits++;
          return;
        }
        const first = firstIndexOfKey.get(keys[index]!);
        if (first !== undefined) {
          duplicates.push([index, first]);
          return;
        }
        firstIndexOfKey.set(keys[index]!, index);
      }
      toCompute.push(index);
    });

    // What the in-process cache missed, the shared tier may have (another replica computed it): one round trip.
    if (this.#sharedTier !== undefined && toCompute.length > 0) {
      const found = await this.#sharedTier.getMany(toCompute.map((index) => keys[index]!), options.dimensions ?? this.model.dimension);
      toCompute = toCompute.filter((index, position) => {
        const vector = found[position];
        if (vector === undefined) return true;
        embeddings[index] = vector;
        cacheHits++;
        this.#cache?.set(keys[index]!, vector);
        return false;
      });
    }

    const tokenizeStart = performance.now();
    const encodings: TextEncoding[] = toCompute.map((index) => {
      const encoding = this.#tokenizer.encode(prompt + texts[index]!, direction);
      if (promptLength > 0) encoding.poolingStart = promptLength;
      if (encoding.truncated && !truncate) {
        throw new EmbedderError('INPUT_TOO_LONG', `text ${index} has ${encoding.fullLength} tokens; the model takes at most ${this.model.maxSeqLength} (set truncate to cut it)`, {
          details: { index, tokens: encoding.fullLength, limit: this.model.maxSeqLength },
        });
      }
      return encoding;
    });
    const tokenizationMs = performance.now() - tokenizeStart;

    let queueMs = 0;
    let inferenceMs = 0;
    if (encodings.length > 0) {
      const result = await this.#queue.run(encodings, options.signal);
      queueMs = result.queueMs;
      inferenceMs = result.inferenceMs;
      toCompute.forEach((index, position) => {
        const vector = this.#finish(result.vectors[position]!, options.dimensions, normalize);
        embeddings[index] = vector;
        tokenCounts[index] = encodings[position]!.ids.length;
        truncated[index] = encodings[position]!.truncated;
        this.#cache?.set(keys[index]!, vector);
      });
      // Awaited (bounded by the tier's timeout) so that a replica asked next finds what this answer computed.
      await this.#sharedTier?.setMany(toCompute.map((index) => [keys[index]!, embeddings[index]!] as const));
    }
    for (const [index, first] of duplicates) {
      embeddings[index] = embeddings[first]!;
      tokenCounts[index] = tokenCounts[first]!;
      truncated[index] = truncated[first]!;
    }
    // Cached texts report their real token count when asked (embedWithDetails); embed() leaves them untokenised.
    texts.forEach((text, index) => {
      if (countCachedTokens && tokenCounts[index] === 0) {
        const encoding = this.#tokenizer.encode(prompt + text, direction);
        tokenCounts[index] = encoding.ids.length;
        truncated[index] = encoding.truncated;
      }
    });
    this.#stats.recordCall(texts.length, cacheHits, duplicates.length);
    return {
      embeddings,
      tokenCounts,
      truncated,
      cacheHits: cacheHits + duplicates.length,
      timings: { tokenizationMs, queueMs, inferenceMs, totalMs: performance.now() - started },
    };
  }

  /**
   * The text put before every input: `prompt` as given, else the model's prompt named by `promptName`, else its
   * default_prompt_name's, else none. Throws INVALID_INPUT naming the model's prompts for an unknown name.
   */
  resolvePrompt(options: Pick<EmbedOptions, 'prompt' | 'promptName'> = {}): string {
    this.#assertOpen();
    return this.#prompt(options);
  }

  #prompt(options: Pick<EmbedOptions, 'prompt' | 'promptName'>): string {
    if (options.prompt !== undefined) return options.prompt;
    const name = options.promptName ?? this.#spec.defaultPromptName;
    if (name === undefined) return '';
    const prompt = this.#spec.prompts[name];
    if (prompt === undefined) {
      const known = Object.keys(this.#spec.prompts);
      throw new EmbedderError('INVALID_INPUT', `prompt name '${name}' is unknown: model '${this.model.id}' defines ${known.length === 0 ? 'no prompts' : `the prompts ${known.join(', ')}`}`, {
        details: { field: 'promptName', promptName: name, prompts: known },
      });
    }
    return prompt;
  }

  /** Matryoshka cut, then L2 normalisation. */
  #finish(pooled: Float32Array, dimensions: number | undefined, normalize: boolean): Float32Array {
    const vector = dimensions === undefined || dimensions === pooled.length ? pooled : pooled.slice(0, dimensions);
    return normalize ? l2NormalizeRows(vector, vector.length) : vector;
  }

  #key(text: string, options: EmbedOptions & { normalize: boolean; truncate: boolean; truncationDirection: 'right' | 'left' }): string {
    return cacheKey({
      modelId: this.#spec.repoId ?? this.#spec.id,
      weightsFingerprint: this.#weightsFingerprint,
      dtype: this.model.dtype,
      pooling: this.#spec.pooling,
      normalize: options.normalize,
      ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
      maxSeqLength: this.model.maxSeqLength,
      truncate: options.truncate,
      truncationDirection: options.truncationDirection,
      ...(options.prompt === '' || options.prompt === undefined ? {} : { prompt: options.prompt }),
      text,
    });
  }

  /**
   * Embeds an (async) iterable of texts in windows, yielding results in input order as each window finishes,
   * so memory stays bounded however long the input is. The next window is read and queued while the consumer
   * handles the last one's results, so the model is not idle while a CLI formats and writes lines (at most
   * `windowsInFlight` windows are held: 2 by default). Stopping early (break) aborts the windows not yet yielded.
   */
  async *embedStream(
    texts: AsyncIterable<string> | Iterable<string>,
    options: EmbedOptions & { windowSize?: number; windowsInFlight?: number } = {},
  ): AsyncGenerator<{ index: number; embedding: Float32Array; tokenCount: number }> {
    // 512 texts: embedStream of short.txt ran as fast as one embed() call of it (q8 1.10x, fp32 0.995x; 256: 1.05x,
    // 0.963x; 1,024: 1.03x, 0.990x; one process, passes alternating, 4 rounds), and 100,000 streamed lines grew RSS
    // by 19.5 MB from 10% to 100% (256: 12.5 MB; 1,024: 37-45 MB, near issue 5's 50 MB bound).
    const windowSize = options.windowSize ?? Math.max(this.settings.batchSize * 16, 512);
    const windowsInFlight = Math.max(1, options.windowsInFlight ?? 2);
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    type Window = { offset: number; result: Promise<EmbedResult> };
    const inFlight: Window[] = [];
    let window: string[] = [];
    let offset = 0;
    const launch = () => {
      const result = this.embedWithDetails(window, { ...options, signal });
      // Awaited in order below; this only keeps a failure from being reported as unhandled before its turn.
      result.catch(() => undefined);
      inFlight.push({ offset, result });
      offset += window.length;
      window = [];
    };
    const yieldOldest = async function* () {
      const oldest = inFlight.shift()!;
      const result = await oldest.result;
      for (let i = 0; i < result.embeddings.length; i++) {
        yield { index: oldest.offset + i, embedding: result.embeddings[i]!, tokenCount: result.tokenCounts[i]! };
      }
    };
    try {
      for await (const text of texts) {
        window.push(text);
        if (window.length < windowSize) continue;
        launch();
        while (inFlight.length >= windowsInFlight) yield* yieldOldest();
      }
      if (window.length > 0) launch();
      while (inFlight.length > 0) yield* yieldOldest();
    } finally {
      if (inFlight.length > 0) {
        stop.abort(new DOMException('the stream was closed before these texts were read', 'AbortError'));
        await Promise.allSettled(inFlight.map((each) => each.result));
      }
    }
  }

  /** Fills `embedding` (and the deprecated `embeddings`, the same array) of each chunk; order, ids and metadata kept (the seed's generate_embeddings). */
  async generateEmbeddings(chunks: Chunk[]): Promise<EmbeddedChunk[]> {
    validateChunks(chunks);
    const vectors = await this.embed(chunks.map((chunk) => chunk.content));
    return chunks.map((chunk, index) => ({ ...chunk, embedding: vectors[index]!, embeddings: vectors[index]! }));
  }

  /** Tokens with ids, text and character offsets, truncated like embed() does (the prompt, when named, included). */
  tokenize(texts: string[], options: { addSpecialTokens?: boolean; prompt?: string; promptName?: string } = {}): TokenInfo[][] {
    validateTexts(texts);
    const prompt = this.#prompt(options);
    return texts.map((text) => this.#tokenizer.tokenize(prompt + text, options));
  }

  /** Token ids back to text. */
  decode(ids: number[][], options: { skipSpecialTokens?: boolean } = {}): string[] {
    // An empty id list decodes to the empty text (the tokenizer library throws on it).
    return ids.map((row) => (row.length === 0 ? '' : this.#tokenizer.decode(row, options)));
  }

  /** Tokens per text after truncation, specials included (the prompt, when named, included). */
  countTokens(texts: string[], options: { prompt?: string; promptName?: string } = {}): number[] {
    validateTexts(texts);
    const prompt = this.#prompt(options);
    return texts.map((text) => this.#tokenizer.encode(prompt + text).ids.length);
  }

  calculateSimilarity(a: Float32Array, b: Float32Array): number {
    return cosineSimilarity(a, b);
  }

  calculateSimilarities(query: Float32Array, embeddings: Float32Array[]): number[] {
    return Array.from(batchCosineSimilarity(query, embeddings));
  }

  findTopK(query: Float32Array, embeddings: Float32Array[], k: number): { index: number; score: number }[] {
    return findTopK(query, embeddings, k);
  }

  cluster(embeddings: Float32Array[], k: number, options: { seed?: number; maxIterations?: number } = {}): KMeansResult {
    return kmeans(embeddings, k, options);
  }

  /** Subscribes to batch events; returns the unsubscribe function. */
  onBatch(listener: (event: BatchEvent) => void): () => void {
    this.#batchListeners.add(listener);
    return () => this.#batchListeners.delete(listener);
  }

  /** Inputs waiting or running. */
  queuedInputs(): number {
    return this.#queue.queuedInputs;
  }

  getStats(): GeneratorStats {
    return this.#stats.snapshot(this.#cache?.stats(), this.#sharedTier?.stats());
  }

  /** False once disposed. */
  get alive(): boolean {
    return !this.#disposed;
  }

  /** Releases the session and closes (flushes) the cache. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue.close();
    await this.#session.dispose();
    await this.#cache?.close();
    await this.#sharedTier?.close();
  }

  #assertOpen(): void {
    if (this.#disposed) throw new EmbedderError('DISPOSED', 'the generator was disposed');
  }
}

/** A backend that reports no device selection ran where its session says (`auto` there means its default, the CPU). */
function deviceReportOf(requested: Device, device: Device): DeviceReport {
  return { requested, used: device === 'auto' ? 'cpu' : device, skipped: [] };
}
