import { existsSync } from 'node:fs';
import {
  EmbedderError,
  isEmbedderError,
  type BatchEvent,
  type EmbedderSettings,
  type EmbeddingHost,
  type EmbedOptions,
  type EmbedResult,
  type GeneratorStats,
  type Logger,
  type ModelInfo,
  type PromptOptions,
  type TokenInfo,
} from '@embedder-rag/core';
import { WorkerChannel } from '@embedder-rag/worker-channel';
import type { ModelCalls, ModelEvent, ModelReady, ModelThreadReady } from './model-worker';

/** The worker script beside this module: model-worker.js when built, model-worker.ts when run from sources. */
function workerUrl(): URL {
  const built = new URL('./model-worker.js', import.meta.url);
  return existsSync(built) ? built : new URL('./model-worker.ts', import.meta.url);
}

type ThreadChannel = WorkerChannel<ModelCalls, ModelThreadReady, ModelEvent>;

/** A slot of a thread: the served name its logs carry, and its host once loaded (events before that are logs only). */
interface Slot {
  name: string;
  host?: ModelHost;
}

/**
 * A worker thread hosting the generators of one model (see model-worker.ts): its dtypes share it, and with it the
 * backend registry and the tokenizer. It ends when its last generator is disposed.
 */
export class ModelThread {
  readonly channel: ThreadChannel;
  readonly #slots: Map<number, Slot>;
  #nextSlot = 1;
  #ending = false;

  private constructor(channel: ThreadChannel, slots: Map<number, Slot>) {
    this.channel = channel;
    this.#slots = slots;
  }

  /** Starts a thread for `name` (what its errors call it) with no model loaded yet. */
  static async start(name: string, logger: Logger): Promise<ModelThread> {
    // The map exists before the channel: events are routed from the thread's first message on.
    const slots = new Map<number, Slot>();
    const channel = await WorkerChannel.start<ModelCalls, ModelThreadReady, ModelEvent>(workerUrl(), {
      name: `the model thread of '${name}'`,
      // No inherited flags: a test runner's loaders and conditions must not leak into the worker.
      execArgv: [],
      onEvent: (event) => {
        const slot = event.slot === undefined ? undefined : slots.get(event.slot);
        if (event.type === 'log') {
          logger[event.level](event.message, { model: slot?.name ?? name, ...event.fields });
        } else slot?.host?.receive(event);
      },
      onError: (error) => logger.error('model worker failed', { model: name, error: error.message }),
    });
    return new ModelThread(channel, slots);
  }

  /** The worker's thread id (the models sharing a thread report the same). */
  get threadId(): number {
    return this.channel.ready.threadId;
  }

  /** False once the thread has stopped or is ending (its last model was disposed): load into a new one then. */
  get usable(): boolean {
    return !this.#ending && this.channel.alive;
  }

  /** Reserves a slot for the model served as `name`; its events are routed to it from now on. */
  attach(name: string): number {
    const slot = this.#nextSlot++;
    this.#slots.set(slot, { name });
    return slot;
  }

  bind(slot: number, host: ModelHost): void {
    const entry = this.#slots.get(slot);
    if (entry !== undefined) entry.host = host;
  }

  /** Forgets a slot; the thread ends with its last one. */
  async detach(slot: number): Promise<void> {
    this.#slots.delete(slot);
    if (this.#slots.size === 0 && !this.#ending) {
      this.#ending = true;
      await this.channel.close();
    }
  }
}

/**
 * One model in a slot of a {@link ModelThread} (see model-worker.ts for why a thread): core's EmbeddingHost, made
 * asynchronous. Results and errors (EmbedderError codes included) cross the thread intact; a thread that stops fails
 * its calls with DISPOSED (@embedder-rag/worker-channel).
 */
export class ModelHost implements EmbeddingHost {
  readonly model: ModelInfo;
  readonly settings: Readonly<EmbedderSettings>;
  readonly thread: ModelThread;
  /** Tokenizer files its thread had read when this model was ready (unchanged by the load when it found one to share). */
  readonly tokenizerLoads: number;
  readonly #slot: number;
  readonly #batchListeners = new Set<(event: BatchEvent) => void>();
  #queued = 0;
  #stats: GeneratorStats;
  #disposed = false;

  private constructor(thread: ModelThread, slot: number, ready: ModelReady) {
    this.thread = thread;
    this.#slot = slot;
    this.#stats = ready.stats;
    this.model = ready.model;
    this.settings = Object.freeze(ready.settings);
    this.tokenizerLoads = ready.tokenizerLoads;
  }

  /**
   * Loads a model into `thread`, served as `name` (what its logs say); rejects with the facade's error when it
   * cannot load (the slot is freed then).
   */
  static async start(name: string, settings: Partial<EmbedderSettings>, maxQueueInputs: number, thread: ModelThread): Promise<ModelHost> {
    const slot = thread.attach(name);
    let ready: ModelReady;
    try {
      ready = await thread.channel.call('load', { slot, settings, maxQueueInputs });
    } catch (error) {
      await thread.detach(slot);
      // The thread died under the load (not the model's own error): say so as a start would.
      if (isEmbedderError(error, 'DISPOSED')) throw new EmbedderError('BACKEND_UNAVAILABLE', `${error.message} while loading`, { cause: error });
      throw error;
    }
    const host = new ModelHost(thread, slot, ready);
    thread.bind(slot, host);
    return host;
  }

  /** A batch or stats event of this model's slot (its ModelThread routes them here). */
  receive(event: Exclude<ModelEvent, { type: 'log' }>): void {
    if (event.stats) this.#stats = event.stats;
    if (event.type === 'batch') for (const listener of this.#batchListeners) listener(event.event);
  }

  /** EmbeddingGenerator.embedWithDetails in the worker; `signal` drops the work if it has not started. */
  async embedWithDetails(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const { signal, ...rest } = options;
    this.#queued += texts.length;
    try {
      return await this.thread.channel.call('embed', { slot: this.#slot, texts, options: rest }, signal === undefined ? {} : { signal });
    } finally {
      this.#queued -= texts.length;
    }
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    return (await this.embedWithDetails(texts, options)).embeddings;
  }

  tokenize(texts: string[], options: PromptOptions & { addSpecialTokens?: boolean } = {}): Promise<TokenInfo[][]> {
    return this.thread.channel.call('tokenize', { slot: this.#slot, texts, options });
  }

  countTokens(texts: string[], options: PromptOptions = {}): Promise<number[]> {
    return this.thread.channel.call('countTokens', { slot: this.#slot, texts, options });
  }

  decode(ids: number[][], options: { skipSpecialTokens?: boolean } = {}): Promise<string[]> {
    return this.thread.channel.call('decode', { slot: this.#slot, ids, options });
  }

  /** The generator's stats as of its last batch or answer (never waits for a running batch). */
  getStats(): GeneratorStats {
    return this.#stats;
  }

  /** False once the model was disposed or its worker thread has stopped (crashed). */
  get alive(): boolean {
    return !this.#disposed && this.thread.channel.alive;
  }

  /** Inputs sent to the worker and not answered yet (waiting or running). */
  queuedInputs(): number {
    return this.#queued;
  }

  onBatch(listener: (event: BatchEvent) => void): () => void {
    this.#batchListeners.add(listener);
    return () => this.#batchListeners.delete(listener);
  }

  /** Disposes the generator in its thread (flushing its persistent cache); the thread ends with its last model. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      if (this.thread.channel.alive) await this.thread.channel.call('dispose', { slot: this.#slot });
    } finally {
      await this.thread.detach(this.#slot);
    }
  }
}
