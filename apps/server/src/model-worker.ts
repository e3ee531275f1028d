/**
 * Worker thread that owns one EmbeddingGenerator. onnxruntime-node runs a session synchronously on the thread
 * that calls it (its run() only defers the call with setImmediate), so inference on the HTTP thread would stall
 * every other request. Here it blocks only this thread; requests that arrive meanwhile queue as messages and
 * the facade merges them into the next batch. Plain type-strippable TypeScript with package imports only, so Node
 * runs it from src/ (tests) and from dist/ (built) alike.
 */
import { workerData } from 'node:worker_threads';
import { EmbedderConfig, EmbeddingGenerator } from '@embedder-rag/embedder';
import { serveChannel, type CallContext } from '@embedder-rag/worker-channel';
import type {
  BatchEvent,
  EmbedOptions,
  EmbedResult,
  EmbedderSettings,
  GeneratorStats,
  ModelInfo,
  PromptOptions,
  TokenInfo,
} from '@embedder-rag/core';

/** What ModelHost hands the worker. */
export interface ModelWorkerInit {
  settings: Partial<EmbedderSettings>;
  maxQueueInputs: number;
}

/** The generator's calls, as the worker answers them. */
export type ModelCalls = {
  embed: { payload: { texts: string[]; options: Omit<EmbedOptions, 'signal'> }; result: EmbedResult };
  tokenize: { payload: { texts: string[]; options: PromptOptions & { addSpecialTokens?: boolean } }; result: TokenInfo[][] };
  countTokens: { payload: { texts: string[]; options: PromptOptions }; result: number[] };
  decode: { payload: { ids: number[][]; options: { skipSpecialTokens?: boolean } }; result: string[] };
  dispose: { payload: undefined; result: undefined };
};

/** The loaded model, answered to start. */
export interface ModelReady {
  model: ModelInfo;
  settings: EmbedderSettings;
  stats: GeneratorStats;
}

/** Sent of the worker's own accord: batches and the stats after every batch and call, and warnings. */
export type ModelEvent =
  | { type: 'batch'; event: BatchEvent; stats?: GeneratorStats }
  | { type: 'stats'; stats: GeneratorStats }
  | { type: 'log'; level: 'warn' | 'error'; message: string; fields?: Record<string, unknown> };

const input = workerData as ModelWorkerInit;

serveChannel<ModelCalls, ModelReady, ModelEvent>(async (emit) => {
  const generator = await EmbeddingGenerator.create(EmbedderConfig.create(input.settings), {
    maxQueueInputs: input.maxQueueInputs,
    logger: {
      debug: () => {},
      info: () => {},
      warn: (message, fields) => emit({ type: 'log', level: 'warn', message, ...(fields === undefined ? {} : { fields }) }),
      error: (message, fields) => emit({ type: 'log', level: 'error', message, ...(fields === undefined ? {} : { fields }) }),
    },
  });
  let disposed = false;
  // Stats travel with every batch and every answer, so the HTTP thread reads them without waiting on this one.
  // After dispose() the cache is closed: no stats then.
  generator.onBatch((event) => emit({ type: 'batch', event, ...(disposed ? {} : { stats: generator.getStats() }) }));
  const withStats =
    <P, R>(handler: (payload: P, signal: AbortSignal) => R | Promise<R>) =>
    async (payload: P, call: CallContext<ModelEvent>): Promise<R> => {
      try {
        return await handler(payload, call.signal);
      } finally {
        // In the answer's own message: the stats are current when the call settles, at no extra message.
        if (!disposed) call.events.push({ type: 'stats', stats: generator.getStats() });
      }
    };
  return {
    ready: { model: generator.model, settings: generator.settings, stats: generator.getStats() },
    handlers: {
      embed: withStats(({ texts, options }: ModelCalls['embed']['payload'], signal) => generator.embedWithDetails(texts, { ...options, signal })),
      tokenize: withStats(({ texts, options }: ModelCalls['tokenize']['payload']) => generator.tokenize(texts, options)),
      countTokens: withStats(({ texts, options }: ModelCalls['countTokens']['payload']) => generator.countTokens(texts, options)),
      decode: withStats(({ ids, options }: ModelCalls['decode']['payload']) => generator.decode(ids, options)),
      dispose: async () => {
        disposed = true;
        await generator.dispose();
        return undefined;
      },
    },
  };
});
