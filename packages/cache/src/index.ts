export { cacheKey, fingerprintFile, type CacheKeyParts } from './key';
export { createMemoryCache, entryBytes, ENTRY_OVERHEAD_BYTES, type MemoryCacheOptions } from './memory-cache';
export { openPersistentCache, type PersistentCache, type PersistentCacheOptions } from './persistent-cache';
export { createTieredCache } from './tiered-cache';
export { PersistentEmbeddingCache } from './seed-cache';
export type { CacheStats, EmbeddingCache } from '@embedder-rag/core';
