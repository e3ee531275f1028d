import type { CacheStats, EmbeddingCache } from '@embedder-rag/core';
import { LRUCache } from 'lru-cache';
import { assertCount, assertEntry, assertOpen, assertOptionalPositive } from './validate';
import { VectorSlab } from './vector-slab';

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
 * Estimated bookkeeping per entry beyond the vector and key: the slot reference object and lru-cache's slot in its
 * parallel arrays (well under 100 bytes on V8; the test measures the heap).
 */
export const ENTRY_OVERHEAD_BYTES = 128;

/** Entry limits up to this are preallocated by lru-cache (24 bytes per slot). */
const PREALLOCATE_LIMIT = 100_000;

/** Bytes charged for one entry: the vector, the key (UTF-16) and {@link ENTRY_OVERHEAD_BYTES}. */
export function entryBytes(key: string, vector: Float32Array): number {
  return bytesFor(key, vector.length);
}

function bytesFor(key: string, dimension: number): number {
  return dimension * Float32Array.BYTES_PER_ELEMENT + key.length * 2 + ENTRY_OVERHEAD_BYTES;
}

/** Where an entry's vector lives. */
interface SlotRef {
  readonly slab: VectorSlab;
  readonly slot: number;
}

/**
 * An in-memory LRU cache with TTL and a byte limit, on lru-cache. A 384-dimension entry with a sha256 key costs
 * about 1.8 KB, so 10,000 entries take about 18 MB. Vectors are copied in and out of {@link VectorSlab}s (one
 * per dimension), not kept as one buffer each, so a full cache under steady eviction does not fragment memory.
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
  const slabs = new Map<number, VectorSlab>();
  const slabFor = (dimension: number) => {
    let slab = slabs.get(dimension);
    if (!slab) slabs.set(dimension, (slab = new VectorSlab(dimension, maxEntries)));
    return slab;
  };
  const lru = new LRUCache<string, SlotRef>({
    ...(preallocate ? { max: maxEntries } : {}),
    // lru-cache only tracks sizes under a limit; an unreachable one keeps `bytes` accurate when none is set.
    maxSize: maxBytes ?? Number.MAX_SAFE_INTEGER,
    sizeCalculation: (ref, key) => bytesFor(key, ref.slab.dimension),
    ...(ttlMs === undefined ? {} : { ttl: ttlMs, ttlAutopurge: false, updateAgeOnGet: false }),
    // With an injected clock every TTL check must ask it (lru-cache otherwise reuses a reading for 1 ms).
    ...(now === undefined ? {} : { perf: { now }, ttlResolution: 0 }),
    // Called for every entry that leaves (evicted, expired, deleted, overwritten, cleared): its slot is free again.
    dispose: (ref, _key, reason) => {
      ref.slab.release(ref.slot);
      if (reason === 'evict') counters.evictions++;
    },
  });
  return {
    get(key) {
      assertOpen(closed, 'the memory cache');
      const ref = lru.get(key);
      if (ref === undefined) {
        counters.misses++;
        return undefined;
      }
      counters.hits++;
      return ref.slab.read(ref.slot);
    },
    set(key, vector) {
      assertOpen(closed, 'the memory cache');
      assertEntry(key, vector);
      if (maxBytes !== undefined && bytesFor(key, vector.length) > maxBytes) {
        // Larger than the whole cache: lru-cache would drop it (and any older value) without a dispose call.
        lru.delete(key);
        return;
      }
      const slab = slabFor(vector.length);
      lru.set(key, { slab, slot: slab.store(vector) });
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
      slabs.clear();
    },
    stats(): CacheStats {
      if (ttlMs !== undefined && !closed) lru.purgeStale();
      return { ...counters, size: lru.size, bytes: lru.calculatedSize, maxEntries, ...(maxBytes === undefined ? {} : { maxBytes }) };
    },
    async close() {
      if (!closed) lru.clear();
      slabs.clear();
      closed = true;
    },
  };
}
