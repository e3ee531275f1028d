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

/** Counters and state of a {@link SharedCacheTier}. */
export interface SharedCacheTierStats {
  /** Keys found with a valid value. */
  hits: number;
  /** Keys not answered with a usable value: absent, refused (see rejected), or asked while the tier failed. */
  misses: number;
  /** Values found but refused: wrong format, dimension or checksum (corrupt, or stored by something else). */
  rejected: number;
  /** Commands (a lookup of many keys, a write of many entries) that failed, timed out or were skipped while down. */
  errors: number;
  /** True while the store is connected; while false every lookup is a miss and writes are dropped. */
  up: boolean;
}

/**
 * A cache tier shared between processes (server replicas behind a load balancer), e.g. on Redis. Asynchronous, so it
 * sits behind the synchronous in-process {@link EmbeddingCache}: lookups go to it only for the texts that cache missed.
 * It never throws for a store failure and never waits longer than its own timeout: an outage reads as misses and
 * dropped writes, counted in {@link SharedCacheTierStats}, so a request never fails because of the tier.
 */
export interface SharedCacheTier {
  /**
   * The vectors stored under `keys` (fresh arrays), undefined where absent or refused. A value whose length is not
   * `dimension` is refused, so a foreign or damaged value is a miss, never a wrong vector.
   */
  getMany(keys: readonly string[], dimension: number): Promise<(Float32Array | undefined)[]>;
  /** Stores the entries (best effort: a failure is counted, not thrown). */
  setMany(entries: ReadonlyArray<readonly [key: string, vector: Float32Array]>): Promise<void>;
  stats(): SharedCacheTierStats;
  /** Closes the connection; the tier must not be used afterwards. */
  close(): Promise<void>;
}
