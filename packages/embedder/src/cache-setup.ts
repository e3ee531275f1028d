import type { EmbedderSettings, EmbeddingCache, Logger, SharedCacheTier } from '@embedder-rag/core';
import { createMemoryCache, createTieredCache, openPersistentCache } from '@embedder-rag/cache';

/**
 * The cache the settings ask for: none (cacheSize 0, no path), memory, or memory in front of a persistent store.
 * A corrupt or foreign file at cachePath fails here, at start-up, with CACHE_CORRUPT naming the path.
 */
export function openCache(settings: EmbedderSettings, logger: Logger): EmbeddingCache | undefined {
  const ttl = settings.cacheTtlMs === undefined ? {} : { ttlMs: settings.cacheTtlMs };
  const memory = settings.cacheSize > 0 ? createMemoryCache({ maxEntries: settings.cacheSize, ...ttl }) : undefined;
  if (settings.cachePath === undefined) return memory;
  const persistent = openPersistentCache({ path: settings.cachePath, maxEntries: Math.max(settings.cacheSize, 100_000), ...ttl });
  return degradeToMiss(memory ? createTieredCache(memory, persistent) : persistent, logger);
}

/**
 * The shared tier the settings ask for (cacheRedisUrl), or undefined. ioredis loads only when one is asked for. An
 * unreachable Redis is a degraded start (logged; lookups are misses until it connects), not a failure.
 */
export async function openSharedTier(settings: EmbedderSettings, logger: Logger): Promise<SharedCacheTier | undefined> {
  if (settings.cacheRedisUrl === undefined) return undefined;
  const { openRedisCacheTier } = await import('@embedder-rag/cache-redis');
  return openRedisCacheTier({
    url: settings.cacheRedisUrl,
    ...(settings.cacheRedisTimeoutMs === undefined ? {} : { timeoutMs: settings.cacheRedisTimeoutMs }),
    ...(settings.cacheTtlMs === undefined ? {} : { ttlMs: settings.cacheTtlMs }),
    logger,
  });
}

/**
 * A store error met while serving (a page found corrupt mid-read, a full disk) must not fail the embedding that
 * merely wanted a cache lookup: it reads as a miss, a failed write is skipped, and both are logged.
 */
function degradeToMiss(cache: EmbeddingCache, logger: Logger): EmbeddingCache {
  const warn = (operation: string, error: unknown): void =>
    logger.warn('persistent cache error; carrying on without it for this entry', { operation, reason: error instanceof Error ? error.message : String(error) });
  return {
    get: (key) => {
      try {
        return cache.get(key);
      } catch (error) {
        warn('get', error);
        return undefined;
      }
    },
    set: (key, vector) => {
      try {
        cache.set(key, vector);
      } catch (error) {
        warn('set', error);
      }
    },
    has: (key) => cache.has(key),
    delete: (key) => cache.delete(key),
    clear: () => cache.clear(),
    stats: () => cache.stats(),
    close: () => cache.close(),
  };
}
