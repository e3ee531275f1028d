import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  EmbedderError,
  deserializeError,
  type BatchEvent,
  type EmbedderSettings,
  type EmbeddingHost,
  type EmbedOptions,
  type EmbedResult,
  type GeneratorStats,
  type Logger,
  type ModelInfo,
  type PromptOptions,
  type SerializedError,
  type TokenInfo,
} from '@embedder-rag/core';

/** The worker script beside this module: model-worker.js when built, model-worker.ts when run from sources. */
function workerUrl(): URL {
  const built = new URL('./model-worker.js', import.meta.url);
  return existsSync(built) ? built : new URL('./model-worker.ts', import.meta.url);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  inputs: number;
}

type WorkerMessage =
  | { type: 'ready'; model: ModelInfo; settings: EmbedderSettings; stats: GeneratorStats }
  | { type: 'failed'; error: SerializedError }
  | { type: 'batch'; event: BatchEvent; stats?: GeneratorStats }
  | { type: 'log'; level: 'warn' | 'error'; message: string; fields?: Record<string, unknown> }
  | { id: number; ok: true; value: unknown; stats?: GeneratorStats }
  | { id: number; ok: false; error: SerializedError; stats?: GeneratorStats };

/**
 * One model in its own worker thread (see model-worker.ts for why): core's EmbeddingHost, made asynchronous.
 * Results and errors (EmbedderError codes included) cross the thread intact.
 */
export class ModelHost implements EmbeddingHost {
  readonly model: ModelInfo;
  readonly settings: Readonly<EmbedderSettings>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #batchListeners = new Set<(event: BatchEvent) => void>();
  #nextId = 1;
  #queued = 0;
  #exited: Error | undefined;
  #stats: GeneratorStats;

  private constructor(worker: Worker, model: ModelInfo, settings: EmbedderSettings, stats: GeneratorStats, logger: Logger) {
    this.#worker = worker;
    this.#stats = stats;
    this.model = model;
    this.settings = Object.freeze(settings);
    worker.on('message', (message: WorkerMessage) => this.#receive(message, logger));
    worker.on('error', (error) => logger.error('model worker failed', { model: model.id, error: error.message }));
    worker.on('exit', (code) => {
      this.#exited = new EmbedderError('DISPOSED', `the worker of model '${model.id}' has stopped (exit code ${code})`);
      for (const pending of this.#pending.values()) pending.reject(this.#exited);
      this.#pending.clear();
      this.#queued = 0;
    });
  }

  /** Starts a worker and loads the model in it; rejects with the facade's error when it cannot load. */
  static async start(settings: Partial<EmbedderSettings>, maxQueueInputs: number, logger: Logger): Promise<ModelHost> {
    // execArgv [] so a test runner's flags (loaders, conditions) do not leak into the worker.
    const worker = new Worker(workerUrl(), { workerData: { settings, maxQueueInputs }, execArgv: [] });
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter listeners take any arguments
      const listeners: Record<string, (...args: any[]) => void> = {};
      const ready = await new Promise<{ model: ModelInfo; settings: EmbedderSettings; stats: GeneratorStats }>((resolve, reject) => {
        listeners.message = (message: WorkerMessage) => {
          if ('type' in message && message.type === 'ready') resolve(message);
          else if ('type' in message && message.type === 'failed') reject(deserializeError(message.error));
          // Warnings while loading (a shared cache tier that cannot be reached: a degraded start) are logged too.
          else if ('type' in message && message.type === 'log') logger[message.level](message.message, message.fields);
        };
        listeners.error = reject;
        listeners.exit = (code: number) => reject(new EmbedderError('BACKEND_UNAVAILABLE', `model worker exited with code ${code} while loading`));
        for (const [event, listener] of Object.entries(listeners)) worker.on(event, listener);
      }).finally(() => {
        // Only ours: Worker keeps internal listeners (they start its message port) that must stay.
        for (const [event, listener] of Object.entries(listeners)) worker.off(event, listener);
      });
      return new ModelHost(worker, ready.model, ready.settings, ready.stats, logger);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  #receive(message: WorkerMessage, logger: Logger): void {
    if ('type' in message) {
      if (message.type === 'batch') {
        if (message.stats) this.#stats = message.stats;
        for (const listener of this.#batchListeners) listener(message.event);
      }
      else if (message.type === 'log') logger[message.level](message.message, { model: this.model.id, ...message.fields });
      return;
    }
    if (message.stats) this.#stats = message.stats;
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    this.#queued -= pending.inputs;
    if (message.ok) pending.resolve(message.value);
    else pending.reject(deserializeError(message.error));
  }

  #call<T>(op: string, payload: Record<string, unknown>, inputs = 0, signal?: AbortSignal): Promise<T> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, inputs });
      this.#queued += inputs;
      this.#worker.postMessage({ id, op, ...payload });
      if (signal !== undefined) {
        const abort = () => this.#worker.postMessage({ id, op: 'abort' });
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
      }
    });
  }

  /** EmbeddingGenerator.embedWithDetails in the worker; `signal` drops the work if it has not started. */
  embedWithDetails(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const { signal, ...rest } = options;
    return this.#call<EmbedResult>('embed', { texts, options: rest }, texts.length, signal);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    return (await this.embedWithDetails(texts, options)).embeddings;
  }

  tokenize(texts: string[], options: PromptOptions & { addSpecialTokens?: boolean } = {}): Promise<TokenInfo[][]> {
    return this.#call('tokenize', { texts, options });
  }

  countTokens(texts: string[], options: PromptOptions = {}): Promise<number[]> {
    return this.#call('countTokens', { texts, options });
  }

  decode(ids: number[][], options: { skipSpecialTokens?: boolean } = {}): Promise<string[]> {
    return this.#call('decode', { ids, skipSpecialTokens: options.skipSpecialTokens ?? true });
  }

  /** The generator's stats as of its last batch or answer (never waits for a running batch). */
  getStats(): GeneratorStats {
    return this.#stats;
  }

  /** False once the worker thread has stopped (crashed or disposed). */
  get alive(): boolean {
    return this.#exited === undefined;
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
    if (this.#exited !== undefined) return;
    try {
      await this.#call('dispose', {});
    } finally {
      await this.#worker.terminate();
    }
  }
}
