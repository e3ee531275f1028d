import type { BackendSession, Logger, TokenizedBatch } from '@embedder-rag/core';
import { BatchScheduler, type BatchRunEvent } from '@embedder-rag/batch';
import type { TextEncoding, TextTokenizer } from '@embedder-rag/tokenizer';
import type { BatchEvent } from './types';

/** Limits of {@link InferenceQueue}. */
export interface InferenceQueueOptions {
  /** Most texts per batch. */
  batchSize: number;
  /** Most padded tokens (longest × count) per batch. */
  maxBatchTokens: number;
  /** Most inputs waiting (not yet running); more → OVERLOADED at once. @default Infinity */
  maxQueueInputs?: number;
  /** Adapt the token budget so one batch takes about this long (ms); from constraints.maxLatencyMs. */
  targetLatencyMs?: number;
  /** Padded tokens allowed per real token before a batch is cut. */
  maxPaddingRatio?: number;
  /** What one more batch costs, in padded tokens (cheapest cutting within maxPaddingRatio); unset: greedy cut. */
  batchOverheadTokens?: number;
  /** Texts sorted together by length before being cut into batches. @default 1024 */
  windowSize?: number;
  logger?: Logger;
}

/** Pooled vectors (not normalised) for the encodings of one call, in their order. */
export interface QueueResult {
  vectors: Float32Array[];
  queueMs: number;
  inferenceMs: number;
}

interface QueueItem {
  tokens: number;
  encoding: TextEncoding;
}

/**
 * Runs encoded texts through the backend session with the @embedder-rag/batch scheduler: concurrent calls merge into
 * token-budget batches of similar length, one batch runs per model replica (each already uses its share of the cores)
 * while the next are collated, and each call gets its pooled vectors back in input order.
 */
export class InferenceQueue {
  readonly #scheduler: BatchScheduler<QueueItem, TokenizedBatch, Float32Array>;

  constructor(session: BackendSession, tokenizer: TextTokenizer, options: InferenceQueueOptions, onBatch: (event: BatchEvent) => void) {
    this.#scheduler = new BatchScheduler<QueueItem, TokenizedBatch, Float32Array>({
      prepare: (items) => tokenizer.collate(items.map((item) => item.encoding)),
      execute: async (batch) => {
        const pooled = await session.run(batch);
        const dimension = pooled.length / batch.batchSize;
        const vectors = new Array<Float32Array>(batch.batchSize);
        for (let row = 0; row < batch.batchSize; row++) vectors[row] = pooled.slice(row * dimension, (row + 1) * dimension);
        return vectors;
      },
      // One batch in flight per model replica, and as many prepared ahead.
      concurrency: session.concurrency ?? 1,
      prefetch: session.concurrency ?? 1,
      maxBatchSize: options.batchSize,
      maxBatchTokens: options.maxBatchTokens,
      ...(options.maxQueueInputs === undefined ? {} : { maxQueueItems: options.maxQueueInputs }),
      ...(options.targetLatencyMs === undefined ? {} : { targetLatencyMs: options.targetLatencyMs }),
      ...(options.windowSize === undefined ? {} : { windowSize: options.windowSize }),
      ...(options.maxPaddingRatio === undefined ? {} : { maxPaddingRatio: options.maxPaddingRatio }),
      ...(options.batchOverheadTokens === undefined ? {} : { batchOverheadTokens: options.batchOverheadTokens }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      onBatch: (event: BatchRunEvent) =>
        onBatch({ size: event.size, paddedTokens: event.paddedTokens, tokens: event.tokens, inferenceMs: event.executeMs }),
    });
  }

  /** Inputs waiting or running. */
  get queuedInputs(): number {
    return this.#scheduler.queued() + this.#scheduler.running();
  }

  /** The token budget in force (adaptive when a latency target is set). */
  get budget(): number {
    return this.#scheduler.budget;
  }

  /**
   * Pooled vectors for `encodings`, in order.
   * @throws EmbedderError OVERLOADED when maxQueueInputs would be exceeded; the signal's reason when aborted.
   */
  async run(encodings: readonly TextEncoding[], signal?: AbortSignal): Promise<QueueResult> {
    const items = encodings.map((encoding) => ({ tokens: encoding.ids.length, encoding }));
    const outcome = await this.#scheduler.submitDetailed(items, signal ? { signal } : {});
    return { vectors: outcome.results, queueMs: outcome.queueMs, inferenceMs: outcome.executeMs };
  }

  /** Rejects waiting work with DISPOSED and resolves once the running batch is done. */
  close(): Promise<void> {
    return this.#scheduler.close();
  }
}
