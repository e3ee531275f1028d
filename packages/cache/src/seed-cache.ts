import { EmbedderError } from '@embedder-rag/core';
import { openPersistentCache, type PersistentCache, type PersistentCacheOptions } from './persistent-cache';

/**
 * The seed's PersistentEmbeddingCache(capacity, path) with load(), save(), get() and put(), as a thin adapter over
 * {@link openPersistentCache}. The store writes through, so save() only folds the write-ahead log into the file;
 * load() opens it (and is implied by the first get or put).
 */
export class PersistentEmbeddingCache {
  readonly capacity: number;
  readonly path: string;
  readonly #options: Omit<PersistentCacheOptions, 'path' | 'maxEntries'>;
  #store: PersistentCache | undefined;
  #closed = false;

  constructor(capacity: number, path: string, options: Omit<PersistentCacheOptions, 'path' | 'maxEntries'> = {}) {
    this.capacity = capacity;
    this.path = path;
    this.#options = options;
  }

  /** Opens the store (idempotent). Throws CACHE_CORRUPT for a corrupt or foreign file. */
  async load(): Promise<void> {
    this.#open();
  }

  /** Makes everything written so far part of the main file (entries are already durable once put returns). */
  async save(): Promise<void> {
    this.#open().checkpoint();
  }

  /** The vector stored under `key`, or undefined. */
  get(key: string): Float32Array | undefined {
    return this.#open().get(key);
  }

  /** Stores `vector` under `key` (evicting the least recently used beyond capacity). */
  put(key: string, vector: Float32Array): void {
    this.#open().set(key, vector);
  }

  /** Entries stored now. */
  len(): number {
    return this.#open().stats().size;
  }

  /** Closes the store. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#store?.close();
  }

  #open(): PersistentCache {
    if (this.#closed) throw new EmbedderError('DISPOSED', `PersistentEmbeddingCache ${this.path} was used after close()`);
    this.#store ??= openPersistentCache({ ...this.#options, path: this.path, maxEntries: this.capacity });
    return this.#store;
  }
}
