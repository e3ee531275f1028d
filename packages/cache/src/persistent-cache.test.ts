import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DatabaseSync } from 'node:sqlite';
import { isEmbedderError, noopLogger, type Logger } from '@embedder-rag/core';
import { loadMiniLmReference } from '@embedder-rag/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryCache, createTieredCache, openPersistentCache, PersistentEmbeddingCache } from './index';
import { APPLICATION_ID, MIGRATIONS } from './sqlite-open';

const dir = mkdtempSync(join(tmpdir(), 'embedder-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNumber = 0;
const freshPath = () => join(dir, `cache-${fileNumber++}.db`);

const vectors = loadMiniLmReference()
  .slice(0, 60)
  .map((r) => Float32Array.from(r.embedding));
const same = (a: Float32Array | undefined, b: Float32Array) =>
  a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Writes the 60 reference vectors under k0…k59 and closes the store. */
async function filledStore(): Promise<string> {
  const path = freshPath();
  const cache = openPersistentCache({ path, maxEntries: 1000 });
  vectors.forEach((v, i) => cache.set(`k${i}`, v));
  await cache.close();
  return path;
}

function corruptError(fn: () => unknown, path: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isEmbedderError(error, 'CACHE_CORRUPT')).toBe(true);
  expect((error as Error).message).toContain(path);
}

describe('openPersistentCache', () => {
  it('returns real MiniLM vectors bit-identical after close and reopen, and counts', async () => {
    const path = await filledStore();
    const cache = openPersistentCache({ path, maxEntries: 1000 });
    vectors.forEach((v, i) => expect(same(cache.get(`k${i}`), v)).toBe(true));
    expect(cache.get('absent')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 60, misses: 1, evictions: 0, size: 60, maxEntries: 1000 });
    expect(cache.stats().bytes).toBeGreaterThan(60 * 1536);
    const copy = cache.get('k0')!;
    copy[0] = 7;
    expect(same(cache.get('k0'), vectors[0]!)).toBe(true);
    expect(cache.delete('k0')).toBe(true);
    expect(cache.has('k0')).toBe(false);
    cache.clear();
    expect(cache.stats().size).toBe(0);
    await cache.close();
    expect(() => cache.get('k1')).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('evicts the least recently used beyond maxEntries (injected clock)', async () => {
    let now = 0;
    const path = freshPath();
    const cache = openPersistentCache({ path, maxEntries: 3, now: () => ++now, recencyResolutionMs: 0 });
    for (const k of ['a', 'b', 'c']) cache.set(k, vectors[0]!);
    expect(cache.get('a')).toBeDefined(); // a is used after b and c were written
    cache.set('d', vectors[1]!); // the use of a is recorded with this write; b goes
    expect(['a', 'b', 'c', 'd'].map((k) => cache.has(k))).toEqual([true, false, true, true]);
    cache.set('e', vectors[2]!);
    expect(cache.has('c')).toBe(false);
    expect(cache.stats()).toMatchObject({ size: 3, evictions: 2 });
    await cache.close();
    const reopened = openPersistentCache({ path, maxEntries: 2, now: () => ++now, recencyResolutionMs: 0 });
    reopened.set('f', vectors[3]!); // a smaller bound applies on the next write
    expect(reopened.stats()).toMatchObject({ size: 2, evictions: 2 });
    expect(['a', 'd', 'e', 'f'].map((k) => reopened.has(k))).toEqual([false, false, true, true]);
    await reopened.close();
  });

  it('evicts in write order when the wall clock steps back (a sequence, not the clock, orders eviction)', async () => {
    let now = 1_000_000;
    const cache = openPersistentCache({ path: freshPath(), maxEntries: 3, now: () => (now -= 1000) });
    for (const k of ['a', 'b', 'c']) cache.set(k, vectors[0]!);
    cache.set('d', vectors[1]!); // by the clock d is the oldest and would go the moment it was written; a goes
    expect(['a', 'b', 'c', 'd'].map((k) => cache.has(k))).toEqual([false, true, true, true]);
    cache.set('e', vectors[2]!);
    expect(['b', 'c', 'd', 'e'].map((k) => cache.has(k))).toEqual([false, true, true, true]);
    await cache.close();
  });

  it('repairs counters that disagree with the rows on open (eviction trusts them), and says so', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { ...noopLogger, warn: (message, fields) => warnings.push({ message, ...fields }) };
    for (const damage of ['UPDATE meta SET entries = entries + 100', 'UPDATE meta SET entries = 0, bytes = 0', 'DELETE FROM meta']) {
      const path = await filledStore(); // k0…k59
      const pristine = openPersistentCache({ path, maxEntries: 1000 });
      const { size, bytes } = pristine.stats();
      await pristine.close();
      const raw = new DatabaseSync(path);
      raw.exec(damage);
      raw.close();
      warnings.length = 0;
      const cache = openPersistentCache({ path, maxEntries: 61, logger });
      expect(warnings, damage).toEqual([expect.objectContaining({ path, rows: 60 })]);
      expect(cache.stats(), damage).toMatchObject({ size, bytes });
      // With entries 160 recorded, this write would have evicted 99 rows: every entry.
      cache.set('one-more', vectors[0]!);
      expect(cache.stats(), damage).toMatchObject({ size: 61, evictions: 0 });
      vectors.forEach((v, i) => expect(same(cache.get(`k${i}`), v), `${damage}: k${i}`).toBe(true));
      cache.set('over', vectors[1]!); // and the bound holds: exactly one goes
      expect(cache.stats(), damage).toMatchObject({ size: 61, evictions: 1 });
      await cache.close();
      warnings.length = 0;
      await openPersistentCache({ path, maxEntries: 61, logger }).close();
      expect(warnings, `${damage}: repaired once`).toEqual([]);
    }
  });

  it('migrates a schema-1 file (wall-clock eviction order) keeping its entries and their order', async () => {
    const path = freshPath();
    const v1 = new DatabaseSync(path);
    v1.exec(`PRAGMA journal_mode = WAL; ${MIGRATIONS[0]} PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 1;`);
    const insert = v1.prepare('INSERT INTO entries (key, vector, checksum, created_at, used_at) VALUES (?, ?, ?, ?, ?)');
    // Written a, b, c, d; then a was used: the least recently used order is b, c, d, a.
    const usedAt: Record<string, number> = { a: 500, b: 200, c: 300, d: 400 };
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) {
      const bytes = new Uint8Array(vectors[i]!.buffer);
      insert.run(key, bytes, crc32(bytes, crc32(key)), 100, usedAt[key]!);
    }
    v1.close();
    // A clock just after those uses: the reads below are too recent to be recorded as uses.
    const cache = openPersistentCache({ path, maxEntries: 4, now: () => 600 });
    ['a', 'b', 'c', 'd'].forEach((key, i) => expect(same(cache.get(key), vectors[i]!)).toBe(true));
    cache.set('e', vectors[4]!);
    cache.set('f', vectors[5]!);
    expect(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => cache.has(k))).toEqual([true, false, false, true, true, true]);
    await cache.close();
    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
    raw.close();
    await openPersistentCache({ path, maxEntries: 4 }).close(); // and opens again as a schema-2 file
  });

  it('expires entries after ttlMs (injected clock), also across a reopen', async () => {
    let now = 10_000;
    const path = freshPath();
    const cache = openPersistentCache({ path, maxEntries: 10, ttlMs: 1000, now: () => now });
    cache.set('old', vectors[0]!);
    now += 600;
    cache.set('new', vectors[1]!);
    now += 400;
    expect(same(cache.get('old'), vectors[0]!)).toBe(true);
    now += 1;
    expect(cache.get('old')).toBeUndefined();
    expect(cache.stats().size).toBe(1);
    await cache.close();
    now += 600;
    const reopened = openPersistentCache({ path, maxEntries: 10, ttlMs: 1000, now: () => now });
    expect(reopened.stats().size).toBe(0);
    await reopened.close();
  });

  it('shares one file between two connections (as two processes do)', async () => {
    const path = freshPath();
    const a = openPersistentCache({ path, maxEntries: 100 });
    const b = openPersistentCache({ path, maxEntries: 100 });
    a.set('x', vectors[0]!);
    expect(same(b.get('x'), vectors[0]!)).toBe(true);
    b.set('y', vectors[1]!);
    expect(same(a.get('y'), vectors[1]!)).toBe(true);
    expect(a.stats().size).toBe(2);
    await a.close();
    await b.close();
  });

  it('gives CACHE_CORRUPT naming the path for a foreign file, a foreign database and a damaged header', async () => {
    const text = freshPath();
    writeFileSync(text, 'this is a notes file, not a cache\n'.repeat(20));
    corruptError(() => openPersistentCache({ path: text, maxEntries: 10 }), text);
    expect(readFileSync(text, 'utf8')).toContain('notes file'); // left as it was

    const foreign = freshPath();
    const other = new DatabaseSync(foreign);
    other.exec('CREATE TABLE users (name TEXT)');
    other.close();
    corruptError(() => openPersistentCache({ path: foreign, maxEntries: 10 }), foreign);

    const path = await filledStore();
    const bytes = readFileSync(path);
    for (const position of [0, 16, 18, 21, 47, 60, 68]) {
      const damaged = Buffer.from(bytes);
      damaged[position] = damaged[position]! ^ 0xff;
      writeFileSync(path, damaged);
      corruptError(() => openPersistentCache({ path, maxEntries: 10 }), path);
    }
  });

  it('sets a corrupt file aside and starts empty with onCorrupt recreate', async () => {
    const path = freshPath();
    writeFileSync(path, Buffer.alloc(8192, 7));
    const cache = openPersistentCache({ path, maxEntries: 10, onCorrupt: 'recreate' });
    expect(cache.stats().size).toBe(0);
    cache.set('a', vectors[0]!);
    expect(same(cache.get('a'), vectors[0]!)).toBe(true);
    await cache.close();
    const aside = readdirSync(dir).filter((f) => f.startsWith(`${path.split('/').pop()}.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!))).toEqual(Buffer.alloc(8192, 7));
  });

  it('reads an entry whose stored bytes were flipped as absent, the others intact', async () => {
    const path = await filledStore();
    const bytes = readFileSync(path);
    const target = vectors[17]!;
    const at = bytes.indexOf(Buffer.from(target.buffer, target.byteOffset, target.byteLength));
    expect(at).toBeGreaterThan(0);
    bytes[at + 700] = bytes[at + 700]! ^ 0x01;
    writeFileSync(path, bytes);
    const cache = openPersistentCache({ path, maxEntries: 1000 });
    expect(cache.get('k17')).toBeUndefined();
    expect(cache.has('k17')).toBe(false);
    vectors.forEach((v, i) => {
      if (i !== 17) expect(same(cache.get(`k${i}`), v)).toBe(true);
    });
    await cache.close();
  });

  it('never crashes on a byte flipped anywhere: CACHE_CORRUPT, or every entry whole or absent', async () => {
    const path = await filledStore();
    const pristine = readFileSync(path);
    let random = 12345;
    const outcomes = { refused: 0, opened: 0, lost: 0 };
    for (let trial = 0; trial < 80; trial++) {
      random = (Math.imul(random, 1103515245) + 12345) >>> 0;
      // Half the flips land in the first two pages (header, schema, b-tree roots), half anywhere.
      const position = random % (trial % 2 === 0 ? 8192 : pristine.length);
      const damaged = Buffer.from(pristine);
      damaged[position] = damaged[position]! ^ (1 << (trial % 8));
      writeFileSync(path, damaged);
      for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
      try {
        const cache = openPersistentCache({ path, maxEntries: 1000 });
        outcomes.opened++;
        vectors.forEach((v, i) => {
          const got = cache.get(`k${i}`);
          if (got === undefined) outcomes.lost++;
          else expect(same(got, v)).toBe(true);
        });
        await cache.close();
      } catch (error) {
        expect(isEmbedderError(error)).toBe(true);
        expect(['CACHE_CORRUPT', 'CACHE_FAILED']).toContain((error as { code: string }).code);
        expect((error as Error).message).toContain(path);
        outcomes.refused++;
      }
    }
    expect(outcomes.opened + outcomes.refused).toBe(80);
    // Both paths were exercised: damage caught on open, and damaged entries dropped on read.
    expect(outcomes.refused).toBeGreaterThan(5);
    expect(outcomes.lost).toBeGreaterThan(0);
  });

  it('validates its options and entries', () => {
    expect(() => openPersistentCache({ path: '', maxEntries: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => openPersistentCache({ path: freshPath(), maxEntries: 0 })).toThrow(/maxEntries/);
    const cache = openPersistentCache({ path: freshPath(), maxEntries: 1 });
    expect(() => cache.set('a', [1, 2] as unknown as Float32Array)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('createTieredCache', () => {
  it('serves memory first, promotes persistent hits, and survives a restart through the persistent tier', async () => {
    const path = freshPath();
    const tiered = createTieredCache(createMemoryCache({ maxEntries: 2 }), openPersistentCache({ path, maxEntries: 100 }));
    vectors.slice(0, 5).forEach((v, i) => tiered.set(`k${i}`, v));
    vectors.slice(0, 5).forEach((v, i) => expect(same(tiered.get(`k${i}`), v)).toBe(true));
    expect(tiered.get('absent')).toBeUndefined();
    expect(tiered.stats()).toMatchObject({ hits: 5, misses: 1, size: 5, maxEntries: 100 });
    await tiered.close();

    const memory = createMemoryCache({ maxEntries: 10 });
    const again = createTieredCache(memory, openPersistentCache({ path, maxEntries: 100 }));
    expect(same(again.get('k3'), vectors[3]!)).toBe(true);
    expect(memory.has('k3')).toBe(true); // promoted
    expect(again.delete('k3')).toBe(true);
    expect(again.has('k3')).toBe(false);
    await again.close();
  });
});

describe('PersistentEmbeddingCache (the seed API)', () => {
  it('maps new(capacity, path), load(), put(), get(), save() onto the store', async () => {
    const path = freshPath();
    const cache = new PersistentEmbeddingCache(2, path);
    await cache.load();
    cache.put('a', vectors[0]!);
    cache.put('b', vectors[1]!);
    cache.put('c', vectors[2]!);
    await cache.save();
    expect(cache.len()).toBe(2);
    await cache.close();
    expect(existsSync(path)).toBe(true);
    const again = new PersistentEmbeddingCache(2, path);
    await again.load();
    expect(again.get('a')).toBeUndefined();
    expect(same(again.get('c'), vectors[2]!)).toBe(true);
    await again.close();
  });
});
