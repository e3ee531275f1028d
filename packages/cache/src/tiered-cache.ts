import type { CacheStats, EmbeddingCache } from '@embedder-rag/core';

/**
 * Two caches as one: reads try `memory` first, then `persistent`, copying a persistent hit into memory; writes go
 * to both. stats(): hits and misses of the pair; size, bytes, evictions and maxEntries of the persistent store
 * (the store of record). close() closes both.
 */
export function createTieredCache(memory: EmbeddingCache, persistent: EmbeddingCache): EmbeddingCache {
  const counters = { hits: 0, misses: 0 };
  return {
    get(key) {
      let vector = memory.get(key);
      if (vector === undefined) {
        vector = persistent.get(key);
        if (vector !== undefined) memory.set(key, vector);
      }
      if (vector === undefined) counters.misses++;
      else counters.hits++;
      return vector;
    },
    set(key, vector) {
      persistent.set(key, vector);
      memory.set(key, vector);
    },
    has: (key) => memory.has(key) || persistent.has(key),
    delete(key) {
      const inMemory = memory.delete(key);
      return persistent.delete(key) || inMemory;
    },
    clear() {
      memory.clear();
      persistent.clear();
    },
    stats(): CacheStats {
      const { size, bytes, evictions, maxEntries } = persistent.stats();
      return { ...counters, size, bytes, evictions, maxEntries };
    },
    async close() {
      await Promise.all([memory.close(), persistent.close()]);
    },
  };
}
