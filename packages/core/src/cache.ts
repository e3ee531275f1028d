/** Counters of an {@link EmbeddingCache}, for getStats() and the server's metrics. */
export interface CacheStats {
  /** Lookups answered from the cache since it was created (this process only). */
  hits: number;
  /** Lookups that found nothing usable (absent, expired or failing verification). */
  misses: number;
  /** Entries removed to stay within maxEntries or maxBytes (not counting expiry or delete()). */
  evictions: number;
  /** Entries currently stored. */
  size: number;
  /** Bytes currently held by the entries (vectors, keys and per-entry bookkeeping), in bytes. */
  bytes: number;
  /** The entry limit. */
  maxEntries: number;
  /** The byte limit, when there is one, in bytes. */
  maxBytes?: number;
}

/**
 * An embedding cache: key (see @embedder-rag/cache's cacheKey) → vector. Synchronous get/set, because the in-memory
 * store and the persistent one both read synchronously and the hot path must not await per text.
 * Vectors are copied in and out: a returned vector never aliases storage a caller could mutate.
 */
export interface EmbeddingCache {
  /** The vector stored under `key` (a fresh copy), or undefined when absent or expired. Counts a hit or a miss. */
  get(key: string): Float32Array | undefined;
  /** Stores a copy of `vector` under `key`, replacing any entry; may evict the least recently used entries. */
  set(key: string, vector: Float32Array): void;
  /** True when `key` has a live entry; counts neither a hit nor a miss. */
  has(key: string): boolean;
  /** Removes the entry of `key`; true when there was one. */
  delete(key: string): boolean;
  /** Removes every entry (counters are kept). */
  clear(): void;
  /** A snapshot of the counters. */
  stats(): CacheStats;
  /** Flushes and releases the store; the cache must not be used afterwards. */
  close(): Promise<void>;
}
