import type { EmbedderSettings, EmbeddingCache } from '@embedder/core';
import { createMemoryCache, createTieredCache, openPersistentCache } from '@embedder/cache';

/** The cache the settings ask for: none (cacheSize 0, no path), memory, or memory in front of a persistent store. */
export function openCache(settings: EmbedderSettings): EmbeddingCache | undefined {
  const ttl = settings.cacheTtlMs === undefined ? {} : { ttlMs: settings.cacheTtlMs };
  const memory = settings.cacheSize > 0 ? createMemoryCache({ maxEntries: settings.cacheSize, ...ttl }) : undefined;
  if (settings.cachePath === undefined) return memory;
  const persistent = openPersistentCache({ path: settings.cachePath, maxEntries: Math.max(settings.cacheSize, 100_000), ...ttl });
  return memory ? createTieredCache(memory, persistent) : persistent;
}
