import type { CacheStats, EmbeddingCache } from '@embedder/core';
import { LRUCache } from 'lru-cache';
import { assertCount, assertEntry, assertOpen, assertOptionalPositive } from './validate';

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries: number;
  /** Most bytes kept (see {@link entryBytes}); unlimited when undefined. */
  maxBytes?: number;
  /** Entries more than this many ms old (since set) are gone; never when undefined. */
  ttlMs?: number;
  /** Clock in ms for TTL, injectable for tests. @default performance.now */
  now?: () => number;
}

/**
 * Estimated bookkeeping per entry beyond the vector and key: the Float32Array and ArrayBuffer objects and
 * lru-cache's slot in its parallel arrays (about 100 bytes on V8; the test measures the heap).
 */
export const ENTRY_OVERHEAD_BYTES = 128;

/** Entry limits up to this are preallocated by lru-cache (24 bytes per slot). */
const PREALLOCATE_LIMIT = 100_000;

/** Bytes charged for one entry: the vector, the key (UTF-16) and {@link ENTRY_OVERHEAD_BYTES}. */
export function entryBytes(key: string, vector: Float32Array): number {
  return vector.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
}

/**
 * An in-memory LRU cache with TTL and a byte limit, on lru-cache. A 384-dimension entry with a sha256 key costs
 * about 1.8 KB, so 10,000 entries take about 18 MB. Vectors are copied in and out.
 */
export function createMemoryCache(options: MemoryCacheOptions): EmbeddingCache {
  const { maxEntries, maxBytes, ttlMs, now } = options;
  assertCount(maxEntries, 'maxEntries');
  if (maxBytes !== undefined) assertCount(maxBytes, 'maxBytes');
  assertOptionalPositive(ttlMs, 'ttlMs');
  const counters = { hits: 0, misses: 0, evictions: 0 };
  let closed = false;
  // Small limits go to lru-cache as `max` (it preallocates typed arrays of that length: fastest); large ones are
  // enforced here with pop(), so a limit of 10 million does not reserve 240 MB before the first entry.
  const preallocate = maxEntries <= PREALLOCATE_LIMIT;
  const lru = new LRUCache<string, Float32Array>({
    ...(preallocate ? { max: maxEntries } : {}),
    // lru-cache only tracks sizes under a limit; an unreachable one keeps `bytes` accurate when none is set.
    maxSize: maxBytes ?? Number.MAX_SAFE_INTEGER,
    sizeCalculation: (vector, key) => entryBytes(key, vector),
    ...(ttlMs === undefined ? {} : { ttl: ttlMs, ttlAutopurge: false, updateAgeOnGet: false }),
    // With an injected clock every TTL check must ask it (lru-cache otherwise reuses a reading for 1 ms).
    ...(now === undefined ? {} : { perf: { now }, ttlResolution: 0 }),
    dispose: (_vector, _key, reason) => {
      if (reason === 'evict') counters.evictions++;
    },
  });
  return {
    get(key) {
      assertOpen(closed, 'the memory cache');
      const vector = lru.get(key);
      if (vector === undefined) {
        counters.misses++;
        return undefined;
      }
      counters.hits++;
      return vector.slice();
    },
    set(key, vector) {
      assertOpen(closed, 'the memory cache');
      assertEntry(key, vector);
      lru.set(key, vector.slice());
      if (!preallocate && lru.size > maxEntries) lru.pop();
    },
    has(key) {
      assertOpen(closed, 'the memory cache');
      return lru.has(key);
    },
    delete(key) {
      assertOpen(closed, 'the memory cache');
      return lru.delete(key);
    },
    clear() {
      assertOpen(closed, 'the memory cache');
      lru.clear();
    },
    stats(): CacheStats {
      if (ttlMs !== undefined && !closed) lru.purgeStale();
      return { ...counters, size: lru.size, bytes: lru.calculatedSize, maxEntries, ...(maxBytes === undefined ? {} : { maxBytes }) };
    },
    async close() {
      if (!closed) lru.clear();
      closed = true;
    },
  };
}
