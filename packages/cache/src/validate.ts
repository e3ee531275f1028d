import { EmbedderError } from '@embedder-rag/core';

/** Throws INVALID_CONFIG unless `value` is a whole number of at least `min`. */
export function assertCount(value: unknown, name: string, min = 1): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new EmbedderError('INVALID_CONFIG', `${name} must be a whole number of at least ${min}, got ${String(value)}`, { details: { field: name } });
  }
}

/** Throws INVALID_CONFIG unless `value` is undefined or a finite number above 0. */
export function assertOptionalPositive(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new EmbedderError('INVALID_CONFIG', `${name} must be a number above 0, got ${String(value)}`, { details: { field: name } });
  }
}

/** Throws INVALID_INPUT unless the key is a string and the vector a non-empty Float32Array. */
export function assertEntry(key: unknown, vector?: unknown): void {
  if (typeof key !== 'string') throw new EmbedderError('INVALID_INPUT', `a cache key must be a string, got ${typeof key}`);
  if (vector !== undefined && (!(vector instanceof Float32Array) || vector.length === 0)) {
    throw new EmbedderError('INVALID_INPUT', `the vector cached under ${key} must be a non-empty Float32Array`);
  }
}

/** Throws DISPOSED when the cache was closed. */
export function assertOpen(closed: boolean, what: string): void {
  if (closed) throw new EmbedderError('DISPOSED', `${what} was used after close()`);
}
