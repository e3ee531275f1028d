/**
 * Worker thread that owns the EmbeddingGenerators of one model: its dtypes, from `name@dtype` entries of
 * EMBEDDER_MODELS, each in a slot. They share one backend registry and one tokenizer per model folder
 * (TokenizerCache), so a second dtype costs its weights, not another thread, runtime and tokenizer.
 * onnxruntime-node runs a session synchronously on the thread that calls it (its run() only defers the call with
 * setImmediate), so inference on the HTTP thread would stall every other request. Here it blocks only this thread;
 * requests that arrive meanwhile queue as messages and the facade merges them into the next batch. Plain
 * type-strippable TypeScript with package imports only, so Node runs it from src/ (tests) and from dist/ (built) alike.
 */
import { threadId } from 'node:worker_threads';
import { EmbedderConfig, EmbeddingGenerator, TokenizerCache, createDefaultRegistry } from '@embedder-rag/embedder';
import { serveChannel, type CallContext } from '@embedder-rag/worker-channel';
import {
  EmbedderError,
  type BatchEvent,
  type EmbedOptions,
  type EmbedResult,
  type EmbedderSettings,
  type GeneratorStats,
  type Logger,
  type ModelInfo,
  type PromptOptions,
  type TokenInfo,
} from '@embedder-rag/core';

/** Every call names the slot (the generator) it is for; ModelThread numbers them. */
type ToSlot<P> = { slot: number } & P;

/** The calls of a model thread, as the worker answers them. */
export type ModelCalls = {
  /** Loads a generator into `slot`, sharing the thread's registry and tokenizers. */
  load: { payload: ToSlot<{ settings: Partial<EmbedderSettings>; maxQueueInputs: number }>; result: ModelReady };
  embed: { payload: ToSlot<{ texts: string[]; options: Omit<EmbedOptions, 'signal'> }>; result: EmbedResult };
  tokenize: { payload: ToSlot<{ texts: string[]; options: PromptOptions & { addSpecialTokens?: boolean } }>; result: TokenInfo[][] };
  countTokens: { payload: ToSlot<{ texts: string[]; options: PromptOptions }>; result: number[] };
  decode: { payload: ToSlot<{ ids: number[][]; options: { skipSpecialTokens?: boolean } }>; result: string[] };
  dispose: { payload: ToSlot<object>; result: undefined };
};

/** A loaded generator, answered to load. */
export interface ModelReady {
  model: ModelInfo;
  settings: EmbedderSettings;
  stats: GeneratorStats;
  /** Tokenizer files this thread had read once the model was ready: a model that found its tokenizer leaves it as it was. */
  tokenizerLoads: number;
}

/**
 * Sent of the worker's own accord: a slot's batches and its stats after every batch and call, and log lines (a slot's,
 * or the thread's own when `slot` is absent).
 */
export type ModelEvent =
  | { slot: number; type: 'batch'; event: BatchEvent; stats?: GeneratorStats }
  | { slot: number; type: 'stats'; stats: GeneratorStats }
  | { slot?: number; type: 'log'; level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> };

/** What the thread answers to start: its id (the models sharing it report the same). */
export interface ModelThreadReady {
  threadId: number;
}

serveChannel<ModelCalls, ModelThreadReady, ModelEvent>(async (emit) => {
  const logger = (slot?: number): Logger => {
    const log = (level: 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
      emit({ ...(slot === undefined ? {} : { slot }), type: 'log', level, message, ...(fields === undefined ? {} : { fields }) });
    // info too: the facade logs at info only while loading (backend ready, making the row-wise q8 file, ...).
    return { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') };
  };
  // Once per thread: every model loaded here resolves its backend (and initialises its runtime) through this one.
  const registry = await createDefaultRegistry({ logger: logger() });
  const tokenizers = new TokenizerCache();
  const generators = new Map<number, EmbeddingGenerator>();

  const generatorOf = (slot: number): EmbeddingGenerator => {
    const generator = generators.get(slot);
    if (generator === undefined) throw new EmbedderError('DISPOSED', `no model is loaded in slot ${slot} of this thread (it was unloaded)`);
    return generator;
  };
  // Stats travel with every batch and every answer, so the HTTP thread reads them without waiting on this one. A
  // disposed generator's cache is closed: no stats then.
  const withStats =
    <P extends { slot: number }, R>(handler: (generator: EmbeddingGenerator, payload: P, signal: AbortSignal) => R | Promise<R>) =>
    async (payload: P, call: CallContext<ModelEvent>): Promise<R> => {
      const generator = generatorOf(payload.slot);
      try {
        return await handler(generator, payload, call.signal);
      } finally {
        // In the answer's own message: the stats are current when the call settles, at no extra message.
        if (generators.get(payload.slot) === generator) call.events.push({ slot: payload.slot, type: 'stats', stats: generator.getStats() });
      }
    };

  return {
    ready: { threadId },
    handlers: {
      load: async ({ slot, settings, maxQueueInputs }) => {
        const generator = await EmbeddingGenerator.create(EmbedderConfig.create(settings), {
          maxQueueInputs,
          registry,
          tokenizers,
          logger: logger(slot),
        });
        generators.set(slot, generator);
        generator.onBatch((event) => emit({ slot, type: 'batch', event, ...(generators.get(slot) === generator ? { stats: generator.getStats() } : {}) }));
        return { model: generator.model, settings: generator.settings, stats: generator.getStats(), tokenizerLoads: tokenizers.loads };
      },
      embed: withStats((generator, { texts, options }: ModelCalls['embed']['payload'], signal) => generator.embedWithDetails(texts, { ...options, signal })),
      tokenize: withStats((generator, { texts, options }: ModelCalls['tokenize']['payload']) => generator.tokenize(texts, options)),
      countTokens: withStats((generator, { texts, options }: ModelCalls['countTokens']['payload']) => generator.countTokens(texts, options)),
      decode: withStats((generator, { ids, options }: ModelCalls['decode']['payload']) => generator.decode(ids, options)),
      dispose: async ({ slot }) => {
        const generator = generators.get(slot);
        generators.delete(slot);
        await generator?.dispose();
        return undefined;
      },
    },
  };
});
