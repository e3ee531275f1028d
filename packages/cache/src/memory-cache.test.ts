import { loadMiniLmReference } from '@embedder-rag/test-fixtures';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryCache, entryBytes } from './index';

const vec = (seed: number, d = 4) => Float32Array.from({ length: d }, (_, i) => Math.sin(seed * 31 + i));

describe('createMemoryCache', () => {
  it('returns real MiniLM vectors bit-identical, as copies, and counts hits and misses', () => {
    const cache = createMemoryCache({ maxEntries: 100 });
    const vectors = loadMiniLmReference()
      .slice(0, 50)
      .map((r) => Float32Array.from(r.embedding));
    vectors.forEach((v, i) => cache.set(`k${i}`, v));
    vectors.forEach((v, i) => {
      const got = cache.get(`k${i}`)!;
      expect(new Uint8Array(got.buffer)).toEqual(new Uint8Array(v.buffer));
      got[0] = 42;
      expect(cache.get(`k${i}`)![0]).toBe(v[0]);
    });
    const input = vec(1);
    cache.set('mutable', input);
    input[0] = 99;
    expect(cache.get('mutable')![0]).not.toBe(99);
    expect(cache.get('absent')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 101, misses: 1, evictions: 0, size: 51, maxEntries: 100 });
  });

  it('evicts the least recently used entry first, counting evictions', () => {
    const cache = createMemoryCache({ maxEntries: 3 });
    cache.set('a', vec(1));
    cache.set('b', vec(2));
    cache.set('c', vec(3));
    cache.get('a'); // a is now the most recent; b the least
    cache.set('d', vec(4));
    expect(cache.has('b')).toBe(false);
    expect(['a', 'c', 'd'].every((k) => cache.has(k))).toBe(true);
    cache.has('c'); // has() does not refresh: c stays the least recent
    cache.set('e', vec(5));
    expect(cache.has('c')).toBe(false);
    expect(cache.stats()).toMatchObject({ evictions: 2, size: 3 });
  });

  it('enforces a large entry limit without preallocating it, evicting least recently used first', () => {
    const before = process.memoryUsage().arrayBuffers;
    const cache = createMemoryCache({ maxEntries: 10_000_000 });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, vec(i));
    expect(cache.stats()).toMatchObject({ size: 5, evictions: 0, maxEntries: 10_000_000 });
    const small = createMemoryCache({ maxEntries: 100_001 }); // just above the preallocation limit
    for (let i = 0; i < 100_001; i++) small.set(`k${i}`, vec(0, 1));
    small.get('k0');
    small.set('extra', vec(1, 1));
    expect(small.has('k0')).toBe(true);
    expect(small.has('k1')).toBe(false);
    expect(small.stats()).toMatchObject({ size: 100_001, evictions: 1 });
  });

  it('expires entries after ttlMs on an injected clock, without sleeping', () => {
    let now = 1_000;
    const cache = createMemoryCache({ maxEntries: 10, ttlMs: 500, now: () => now });
    cache.set('old', vec(1));
    now += 300;
    cache.set('new', vec(2));
    expect(cache.get('old')).toBeDefined(); // reading does not extend the life of an entry
    now += 200; // exactly ttlMs old: still live
    expect(cache.has('old')).toBe(true);
    now += 1;
    expect(cache.get('old')).toBeUndefined();
    expect(cache.has('new')).toBe(true);
    now += 300;
    expect(cache.get('new')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ size: 0, evictions: 0, hits: 1, misses: 2 });
  });

  it('keeps within maxBytes and reports bytes', () => {
    const one = entryBytes('k0', vec(0, 384));
    const cache = createMemoryCache({ maxEntries: 1000, maxBytes: one * 5 });
    for (let i = 0; i < 8; i++) cache.set(`k${i}`, vec(i, 384));
    expect(cache.stats()).toMatchObject({ size: 5, bytes: one * 5, evictions: 3, maxBytes: one * 5 });
    expect(cache.has('k2')).toBe(false);
    expect(cache.has('k3')).toBe(true);
  });

  it('holds 10,000 vectors of 384 floats in well under 50 MB, counted and measured', () => {
    const before = process.memoryUsage();
    const cache = createMemoryCache({ maxEntries: 10_000 });
    const input = new Float32Array(384);
    for (let i = 0; i < 10_000; i++) {
      input[0] = i;
      cache.set(`${i}`.padStart(64, '0'), input);
    }
    const after = process.memoryUsage();
    const grown = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
    expect(cache.stats().size).toBe(10_000);
    expect(cache.stats().bytes).toBeLessThan(25 * 1024 * 1024);
    // Garbage from the loop only adds to the measured growth, so this bound is conservative.
    expect(grown).toBeLessThan(35 * 1024 * 1024);
  });

  it('deletes, clears, validates and refuses use after close', async () => {
    const cache = createMemoryCache({ maxEntries: 2 });
    cache.set('a', vec(1));
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
    cache.set('b', vec(2));
    cache.clear();
    expect(cache.stats().size).toBe(0);
    expect(() => cache.set('c', new Float32Array(0))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => createMemoryCache({ maxEntries: 0 })).toThrow(/maxEntries must be a whole number of at least 1/);
    expect(() => createMemoryCache({ maxEntries: 1, ttlMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    await cache.close();
    expect(() => cache.get('b')).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });
});

describe('createMemoryCache slot reuse', () => {
  it('returns what was last set for every live key through random sets, gets, deletes and evictions', () => {
    // A model of the cache (Map in insertion = recency order) checked against it after every operation; slots of
    // evicted, deleted and overwritten entries are reused, so any mix-up shows as a wrong vector.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.constantFrom('set', 'get', 'delete'), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 1e6 }), fc.constantFrom(3, 8)), {
          maxLength: 80,
        }),
        (maxEntries, ops) => {
          const cache = createMemoryCache({ maxEntries });
          const model = new Map<string, Float32Array>();
          for (const [op, k, seed, d] of ops) {
            const key = `k${k}`;
            if (op === 'set') {
              const v = vec(seed, d);
              cache.set(key, v);
              model.delete(key);
              model.set(key, v);
              if (model.size > maxEntries) model.delete(model.keys().next().value!);
            } else if (op === 'get') {
              const got = cache.get(key);
              const want = model.get(key);
              expect(got).toEqual(want);
              if (want) {
                model.delete(key);
                model.set(key, want);
              }
            } else {
              expect(cache.delete(key)).toBe(model.delete(key));
            }
            expect(cache.stats().size).toBe(model.size);
          }
          for (const [key, v] of model) expect(cache.get(key)).toEqual(v);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps vectors of several dimensions apart and drops an entry larger than maxBytes', () => {
    const cache = createMemoryCache({ maxEntries: 4, maxBytes: entryBytes('k', vec(0, 384)) });
    cache.set('k', vec(1, 384));
    cache.set('s', vec(2, 3)); // evicts 'k' by bytes
    expect(cache.get('s')).toEqual(vec(2, 3));
    cache.set('s', vec(3, 1000)); // too large for the whole cache: dropped, with the old value
    expect(cache.has('s')).toBe(false);
    cache.set('a', vec(4, 8));
    expect(cache.get('a')).toEqual(vec(4, 8));
    expect(cache.stats().size).toBe(1);
  });

  it('reuses its storage: 100,000 sets through a full 10,000-entry cache reserve no more array-buffer memory', () => {
    const cache = createMemoryCache({ maxEntries: 10_000 });
    const input = new Float32Array(384);
    const fill = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        input[0] = i;
        cache.set(`${i}`.padStart(64, '0'), input);
      }
    };
    fill(0, 10_000);
    const full = process.memoryUsage().arrayBuffers;
    fill(10_000, 110_000);
    // Nothing is allocated per entry any more, so no garbage collection is needed for this to hold.
    expect(process.memoryUsage().arrayBuffers - full).toBeLessThan(1024 * 1024);
    expect(cache.get('109999'.padStart(64, '0'))![0]).toBe(109_999);
    expect(cache.stats()).toMatchObject({ size: 10_000, evictions: 100_000 });
  });
});
