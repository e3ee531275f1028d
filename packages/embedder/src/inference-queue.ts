import { EmbedderError, type BackendSession } from '@embedder/core';
import type { TextEncoding, TextTokenizer } from '@embedder/tokenizer';
import type { BatchEvent } from './types';

/** Limits of {@link InferenceQueue}. */
export interface InferenceQueueOptions {
  /** Most texts per batch. */
  batchSize: number;
  /** Most padded tokens (longest × count) per batch. */
  maxBatchTokens: number;
  /** Most inputs waiting or running; more → OVERLOADED. @default Infinity */
  maxQueueInputs?: number;
}

/** Pooled vectors (not normalised) for the encodings of one call, in their order. */
export interface QueueResult {
  vectors: Float32Array[];
  queueMs: number;
  inferenceMs: number;
}

/**
 * Runs encoded texts through the backend session in token-budget batches of similar length, one batch at a time
 * (the session already uses every core), and returns pooled vectors in input order.
 */
export class InferenceQueue {
  readonly #session: BackendSession;
  readonly #tokenizer: TextTokenizer;
  readonly #options: InferenceQueueOptions;
  readonly #onBatch: (event: BatchEvent) => void;
  #pending = 0;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(session: BackendSession, tokenizer: TextTokenizer, options: InferenceQueueOptions, onBatch: (event: BatchEvent) => void) {
    this.#session = session;
    this.#tokenizer = tokenizer;
    this.#options = options;
    this.#onBatch = onBatch;
  }

  /** Inputs waiting or running. */
  get queuedInputs(): number {
    return this.#pending;
  }

  async run(encodings: readonly TextEncoding[], signal?: AbortSignal): Promise<QueueResult> {
    const limit = this.#options.maxQueueInputs ?? Number.POSITIVE_INFINITY;
    if (this.#pending + encodings.length > limit) {
      throw new EmbedderError('OVERLOADED', `the queue holds ${this.#pending} of ${limit} inputs; ${encodings.length} more do not fit`, {
        details: { queued: this.#pending, limit },
      });
    }
    this.#pending += encodings.length;
    const enqueued = performance.now();
    const vectors = new Array<Float32Array>(encodings.length);
    let inferenceMs = 0;
    let started = 0;
    let owned = encodings.length;
    try {
      for (const batch of this.#plan(encodings)) {
        const ready = this.#tail;
        let release!: () => void;
        this.#tail = new Promise<void>((resolve) => (release = resolve));
        await ready;
        try {
          if (started === 0) started = performance.now();
          signal?.throwIfAborted();
          const begin = performance.now();
          const pooled = await this.#session.run(this.#tokenizer.collate(batch.map((i) => encodings[i]!)));
          const elapsed = performance.now() - begin;
          inferenceMs += elapsed;
          const dimension = pooled.length / batch.length;
          batch.forEach((inputIndex, row) => (vectors[inputIndex] = pooled.slice(row * dimension, (row + 1) * dimension)));
          const longest = Math.max(...batch.map((i) => encodings[i]!.ids.length));
          this.#onBatch({
            size: batch.length,
            paddedTokens: longest * batch.length,
            tokens: batch.reduce((sum, i) => sum + encodings[i]!.ids.length, 0),
            inferenceMs: elapsed,
          });
        } finally {
          this.#pending -= batch.length;
          owned -= batch.length;
          release();
        }
      }
    } catch (error) {
      // Batches that never ran still count as queued: release them.
      this.#pending -= owned;
      throw error;
    }
    return { vectors, queueMs: started - enqueued, inferenceMs };
  }

  /** Indices grouped into batches: sorted by length so a batch pads little, cut by count and token budget. */
  #plan(encodings: readonly TextEncoding[]): number[][] {
    const order = encodings.map((_, i) => i).sort((a, b) => encodings[a]!.ids.length - encodings[b]!.ids.length);
    const batches: number[][] = [];
    let current: number[] = [];
    for (const index of order) {
      const length = encodings[index]!.ids.length;
      // Sorted ascending, so this text is the longest of the batch it joins.
      if (current.length > 0 && (current.length + 1 > this.#options.batchSize || (current.length + 1) * length > this.#options.maxBatchTokens)) {
        batches.push(current);
        current = [];
      }
      current.push(index);
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }
}
