import type { CacheStats, PresetName, SharedCacheTierStats } from '@embedder-rag/core';
import type { BatchEvent, GeneratorStats, ModelInfo } from './types';

/** Counts what the generator did, for getStats(). */
export class StatsCollector {
  #embeddings = 0;
  #batches = 0;
  #tokens = 0;
  #batchMs = 0;
  #hits = 0;
  #misses = 0;
  #errors = 0;

  constructor(
    private readonly model: ModelInfo,
    private readonly preset: PresetName,
    private readonly tuning: Record<string, unknown>,
  ) {}

  recordBatch(event: BatchEvent): void {
    this.#batches++;
    this.#tokens += event.tokens;
    this.#batchMs += event.inferenceMs;
  }

  /** A finished call: `hits` came from the cache, `repeats` were duplicates inside the call. */
  recordCall(texts: number, hits: number, repeats: number): void {
    this.#embeddings += texts;
    this.#hits += hits + repeats;
    this.#misses += texts - hits - repeats;
  }

  recordError(): void {
    this.#errors++;
  }

  snapshot(cache: CacheStats | undefined, sharedTier?: SharedCacheTierStats): GeneratorStats {
    return {
      totalEmbeddings: this.#embeddings,
      totalBatches: this.#batches,
      totalTokens: this.#tokens,
      cacheHits: this.#hits,
      cacheMisses: this.#misses,
      cacheSize: cache?.size ?? 0,
      cacheEvictions: cache?.evictions ?? 0,
      ...(sharedTier === undefined ? {} : { cacheTier: sharedTier }),
      avgBatchTimeMs: this.#batches === 0 ? 0 : this.#batchMs / this.#batches,
      errors: this.#errors,
      backend: this.model.backend,
      runtime: this.model.runtime,
      dtype: this.model.dtype,
      device: this.model.device,
      preset: this.preset,
      tuning: this.tuning,
    };
  }
}
