import { existsSync } from 'node:fs';
import type {
  BatchEvent,
  EmbedderSettings,
  EmbeddingHost,
  EmbedOptions,
  EmbedResult,
  GeneratorStats,
  Logger,
  ModelInfo,
  PromptOptions,
  TokenInfo,
} from '@embedder-rag/core';
import { WorkerChannel } from '@embedder-rag/worker-channel';
import type { ModelCalls, ModelEvent, ModelReady, ModelWorkerInit } from './model-worker';

/** The worker script beside this module: model-worker.js when built, model-worker.ts when run from sources. */
function workerUrl(): URL {
  const built = new URL('./model-worker.js', import.meta.url);
  return existsSync(built) ? built : new URL('./model-worker.ts', import.meta.url);
}

/**
 * One model in its own worker thread (see model-worker.ts for why): core's EmbeddingHost, made asynchronous.
 * Results and errors (EmbedderError codes included) cross the thread intact; a worker that stops fails its
 * calls with DISPOSED (@embedder-rag/worker-channel).
 */
export class ModelHost implements EmbeddingHost {
  readonly model: ModelInfo;
  readonly settings: Readonly<EmbedderSettings>;
  readonly #channel: WorkerChannel<ModelCalls, ModelReady, ModelEvent>;
  readonly #batchListeners = new Set<(event: BatchEvent) => void>();
  #queued = 0;
  #stats: GeneratorStats;

  private constructor(channel: WorkerChannel<ModelCalls, ModelReady, ModelEvent>) {
    this.#channel = channel;
    const { model, settings, stats } = channel.ready;
    this.#stats = stats;
    this.model = model;
    this.settings = Object.freeze(settings);
  }

  /** Starts a worker and loads the model in it; rejects with the facade's error when it cannot load. */
  static async start(settings: Partial<EmbedderSettings>, maxQueueInputs: number, logger: Logger): Promise<ModelHost> {
    // Events may come before the host exists (warnings while loading): logs are handled without it.
    const loaded: { host?: ModelHost } = {};
    const name = typeof settings.model === 'string' ? settings.model : 'default';
    const channel = await WorkerChannel.start<ModelCalls, ModelReady, ModelEvent>(workerUrl(), {
      name: `the worker of model '${name}'`,
      workerData: { settings, maxQueueInputs } satisfies ModelWorkerInit,
      // No inherited flags: a test runner's loaders and conditions must not leak into the worker.
      execArgv: [],
      onEvent: (event) => {
        if (event.type === 'log') logger[event.level](event.message, { model: loaded.host?.model.id ?? name, ...event.fields });
        else if (loaded.host !== undefined) loaded.host.#receive(event);
      },
      onError: (error) => logger.error('model worker failed', { model: loaded.host?.model.id ?? name, error: error.message }),
    });
    loaded.host = new ModelHost(channel);
    return loaded.host;
  }

  #receive(event: Exclude<ModelEvent, { type: 'log' }>): void {
    if (event.stats) this.#stats = event.stats;
    if (event.type === 'batch') for (const listener of this.#batchListeners) listener(event.event);
  }

  /** EmbeddingGenerator.embedWithDetails in the worker; `signal` drops the work if it has not started. */
  async embedWithDetails(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const { signal, ...rest } = options;
    this.#queued += texts.length;
    try {
      return await this.#channel.call('embed', { texts, options: rest }, signal === undefined ? {} : { signal });
    } finally {
      this.#queued -= texts.length;
    }
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    return (await this.embedWithDetails(texts, options)).embeddings;
  }

  tokenize(texts: string[], options: PromptOptions & { addSpecialTokens?: boolean } = {}): Promise<TokenInfo[][]> {
    return this.#channel.call('tokenize', { texts, options });
  }

  countTokens(texts: string[], options: PromptOptions = {}): Promise<number[]> {
    return this.#channel.call('countTokens', { texts, options });
  }

  decode(ids: number[][], options: { skipSpecialTokens?: boolean } = {}): Promise<string[]> {
    return this.#channel.call('decode', { ids, options });
  }

  /** The generator's stats as of its last batch or answer (never waits for a running batch). */
  getStats(): GeneratorStats {
    return this.#stats;
  }

  /** False once the worker thread has stopped (crashed or disposed). */
  get alive(): boolean {
    return this.#channel.alive;
  }

  /** Inputs sent to the worker and not answered yet (waiting or running). */
  queuedInputs(): number {
    return this.#queued;
  }

  onBatch(listener: (event: BatchEvent) => void): () => void {
    this.#batchListeners.add(listener);
    return () => this.#batchListeners.delete(listener);
  }

  /** Disposes the generator in the worker (flushing its persistent cache), then ends the thread. */
  async dispose(): Promise<void> {
    if (!this.#channel.alive) return;
    try {
      await this.#channel.call('dispose', undefined);
    } finally {
      await this.#channel.close();
    }
  }
}
