import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';
import { EmbedderError, noopLogger, type CacheStats, type EmbeddingCache, type Logger } from '@embedder-rag/core';
import { openStore, storeError } from './sqlite-open';
import { assertCount, assertEntry, assertOpen, assertOptionalPositive } from './validate';

/** Options of {@link openPersistentCache}. */
export interface PersistentCacheOptions {
  /** The database file (created with its folder if missing); `<path>-wal` and `<path>-shm` sit beside it. */
  path: string;
  /** Most entries kept; beyond it the least recently used go (use is recorded in batches, see the README). */
  maxEntries: number;
  /** Entries more than this many ms old (since written) read as absent and are removed; never when undefined. */
  ttlMs?: number;
  /** A corrupt or foreign file: throw CACHE_CORRUPT ('error'), or set it aside and start empty. @default 'error' */
  onCorrupt?: 'error' | 'recreate';
  /** Wall clock in ms (entries outlive the process), injectable for tests. @default Date.now */
  now?: () => number;
  /** How long a write waits for another process's write lock before failing, in ms. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * A read records a use (for least-recently-used eviction) only when the entry's last recorded use is older than
   * this, in ms: recency at a coarse grain, so that reads of warm entries write nothing. @default 60000
   */
  recencyResolutionMs?: number;
  /** Where recreation after corruption and repaired counters are reported. @default noopLogger */
  logger?: Logger;
}

/** The persistent cache: an {@link EmbeddingCache} plus its path and an explicit checkpoint. */
export interface PersistentCache extends EmbeddingCache {
  readonly path: string;
  /** Writes pending recency updates and folds the write-ahead log into the main file (done by close() too). */
  checkpoint(): void;
}

/** Recency updates are buffered and written with the next write, or once this many are pending. */
const TOUCH_BATCH = 256;

interface Row {
  key: string;
  vector: Uint8Array;
  checksum: number;
  created_at: number;
  used_at: number;
}

interface Settings {
  maxEntries: number;
  ttlMs: number | undefined;
  now: () => number;
  recencyResolutionMs: number;
}

/** CRC-32 of the key and the vector's bytes: an entry whose bytes or key changed in any way reads as absent. */
function checksumOf(key: string, bytes: Uint8Array): number {
  return crc32(bytes, crc32(key));
}

function bytesOf(vector: Float32Array): Uint8Array {
  return new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
}

/**
 * Opens the crash-safe persistent cache at `path` (node:sqlite, WAL). Every set is one transaction: an entry is
 * whole or absent after a crash at any moment, and each read is verified by a CRC-32 of key and vector. Several
 * processes may open the same path (SQLite locking; writers wait up to busyTimeoutMs). Synchronous: node:sqlite is.
 * Vectors are stored as raw little-endian Float32 bytes and copied on the way out.
 * A corrupt or foreign file throws CACHE_CORRUPT naming the path (or is set aside, with onCorrupt 'recreate').
 */
export function openPersistentCache(options: PersistentCacheOptions): PersistentCache {
  const { path, maxEntries, ttlMs, onCorrupt = 'error', now = Date.now, busyTimeoutMs = 5000, logger = noopLogger } = options;
  const recencyResolutionMs = options.recencyResolutionMs ?? 60_000;
  if (typeof path !== 'string' || path.length === 0) {
    throw new EmbedderError('INVALID_CONFIG', `path must be a non-empty file path, got ${String(path)}`, { details: { field: 'path' } });
  }
  assertCount(maxEntries, 'maxEntries');
  assertOptionalPositive(ttlMs, 'ttlMs');
  assertCount(recencyResolutionMs, 'recencyResolutionMs', 0);
  const db = openStore({ path, onCorrupt, busyTimeoutMs, logger });
  try {
    return new SqliteCache(db, path, { maxEntries, ttlMs, now, recencyResolutionMs });
  } catch (error) {
    db.close();
    throw storeError(error, path, 'preparing statements');
  }
}

class SqliteCache implements PersistentCache {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #maxEntries: number;
  readonly #ttlMs: number | undefined;
  readonly #now: () => number;
  readonly #recencyResolutionMs: number;
  readonly #counters = { hits: 0, misses: 0, evictions: 0 };
  readonly #touches = new Map<string, number>();
  readonly #sql: Record<'select' | 'upsert' | 'count' | 'evict' | 'touch' | 'remove' | 'discard' | 'clear' | 'expire', StatementSync>;
  #closed = false;

  constructor(db: DatabaseSync, path: string, { maxEntries, ttlMs, now, recencyResolutionMs }: Settings) {
    this.#db = db;
    this.path = path;
    this.#maxEntries = maxEntries;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#recencyResolutionMs = recencyResolutionMs;
    this.#sql = {
      select: db.prepare('SELECT key, vector, checksum, created_at, used_at FROM entries WHERE key = ?'),
      // used_seq: one more than any, at every write and recorded use (writers are serialised): eviction order that
      // no clock step can turn around. An index on used_seq makes max() one lookup.
      upsert: db.prepare(
        `INSERT INTO entries (key, vector, checksum, created_at, used_at, used_seq)
           VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(used_seq), 0) + 1 FROM entries))
         ON CONFLICT (key) DO UPDATE SET vector = excluded.vector, checksum = excluded.checksum,
           created_at = excluded.created_at, used_at = excluded.used_at, used_seq = excluded.used_seq`,
      ),
      count: db.prepare('SELECT entries, bytes FROM meta WHERE id = 0'),
      evict: db.prepare('DELETE FROM entries WHERE id IN (SELECT id FROM entries ORDER BY used_seq LIMIT ?)'),
      touch: db.prepare(
        'UPDATE entries SET used_at = ?, used_seq = (SELECT max(used_seq) + 1 FROM entries) WHERE key = ? AND used_at < ?',
      ),
      remove: db.prepare('DELETE FROM entries WHERE key = ?'),
      discard: db.prepare('DELETE FROM entries WHERE key = ? AND checksum = ? AND created_at = ?'),
      clear: db.prepare('DELETE FROM entries'),
      expire: db.prepare('DELETE FROM entries WHERE created_at < ?'),
    };
    if (ttlMs !== undefined) this.#write(() => this.#sql.expire.run(now() - ttlMs), 'removing expired entries');
  }

  get(key: string): Float32Array | undefined {
    const row = this.#read(key);
    if (row === undefined) {
      this.#counters.misses++;
      return undefined;
    }
    this.#counters.hits++;
    const time = this.#now();
    if (time - row.used_at > this.#recencyResolutionMs) {
      this.#touches.set(key, time);
      if (this.#touches.size >= TOUCH_BATCH) this.#flushTouches();
    }
    const out = new Float32Array(row.vector.byteLength / 4);
    new Uint8Array(out.buffer).set(row.vector);
    return out;
  }

  has(key: string): boolean {
    return this.#read(key) !== undefined;
  }

  set(key: string, vector: Float32Array): void {
    assertOpen(this.#closed, `persistent cache ${this.path}`);
    assertEntry(key, vector);
    const bytes = bytesOf(vector);
    const time = this.#now();
    this.#write(() => {
      this.#sql.upsert.run(key, bytes, checksumOf(key, bytes), time, time);
      const { entries } = this.#sql.count.get() as { entries: number };
      if (entries > this.#maxEntries) {
        this.#counters.evictions += Number(this.#sql.evict.run(entries - this.#maxEntries).changes);
      }
    }, 'writing an entry');
    this.#touches.delete(key);
  }

  delete(key: string): boolean {
    assertOpen(this.#closed, `persistent cache ${this.path}`);
    this.#touches.delete(key);
    return this.#write(() => Number(this.#sql.remove.run(key).changes) > 0, 'deleting an entry');
  }

  clear(): void {
    assertOpen(this.#closed, `persistent cache ${this.path}`);
    this.#touches.clear();
    this.#write(() => this.#sql.clear.run(), 'clearing');
  }

  stats(): CacheStats {
    assertOpen(this.#closed, `persistent cache ${this.path}`);
    try {
      const { entries, bytes } = this.#sql.count.get() as { entries: number; bytes: number };
      return { ...this.#counters, size: entries, bytes, maxEntries: this.#maxEntries };
    } catch (error) {
      throw storeError(error, this.path, 'reading the counters');
    }
  }

  checkpoint(): void {
    assertOpen(this.#closed, `persistent cache ${this.path}`);
    if (this.#touches.size > 0) this.#write(() => undefined, 'recording use');
    try {
      // PASSIVE never waits for other processes' readers; what it cannot fold in stays safely in the WAL.
      this.#db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch (error) {
      throw storeError(error, this.path, 'checkpointing');
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      this.checkpoint();
    } finally {
      this.#closed = true;
      this.#db.close();
    }
  }

  /** Reads and verifies one entry; a damaged or expired one is removed (best effort) and reads as absent. */
  #read(key: string): Row | undefined {
    assertOpen(this.#closed, `persistent cache ${this.path}`);
    assertEntry(key);
    let row: Row | undefined;
    try {
      row = this.#sql.select.get(key) as Row | undefined;
    } catch (error) {
      throw storeError(error, this.path, 'reading an entry');
    }
    // A row under another key means a damaged index: read as absent, and leave that row to its own key.
    if (row === undefined || row.key !== key) return undefined;
    const expired = this.#ttlMs !== undefined && this.#now() - row.created_at > this.#ttlMs;
    const intact =
      row.vector instanceof Uint8Array &&
      row.vector.byteLength > 0 &&
      row.vector.byteLength % 4 === 0 &&
      checksumOf(key, row.vector) === row.checksum;
    if (expired || !intact) {
      this.#discard(row);
      return undefined;
    }
    return row;
  }

  /** Recency is advice for eviction: if another process holds the lock too long, drop it rather than fail a read. */
  #flushTouches(): void {
    try {
      this.#write(() => undefined, 'recording use');
    } catch {
      this.#touches.clear();
    }
  }

  /** Removes the row as read: if another process rewrote the key meanwhile, its new entry stays. */
  #discard(row: Row): void {
    try {
      this.#write(() => this.#sql.discard.run(row.key, row.checksum, row.created_at), 'removing a stale entry');
    } catch {
      // Another process holds the write lock for longer than the timeout: the entry is still absent to readers.
    }
  }

  /** Runs `work` in one IMMEDIATE transaction together with the buffered recency updates. */
  #write<T>(work: () => T, doing: string): T {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw storeError(error, this.path, doing);
    }
    try {
      for (const [key, time] of this.#touches) this.#sql.touch.run(time, key, time);
      const result = work();
      this.#db.exec('COMMIT');
      this.#touches.clear();
      return result;
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // The transaction is already gone (SQLite rolls back by itself on some errors).
      }
      throw storeError(error, this.path, doing);
    }
  }
}
