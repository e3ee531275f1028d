import { EmbedderError } from '@embedder-rag/core';

/** Throws INVALID_INPUT unless `v` is a non-empty Float32Array. */
export function assertVector(v: unknown, name: string): asserts v is Float32Array {
  if (!(v instanceof Float32Array)) {
    throw new EmbedderError('INVALID_INPUT', `${name} must be a Float32Array, got ${describe(v)}`, { details: { argument: name } });
  }
  if (v.length === 0) {
    throw new EmbedderError('INVALID_INPUT', `${name} is empty: a vector needs at least one dimension`, { details: { argument: name } });
  }
}

/** Throws DIMENSION_MISMATCH unless the two lengths agree. */
export function assertSameDimension(a: Float32Array, aName: string, b: Float32Array, bName: string): void {
  if (a.length !== b.length) {
    throw new EmbedderError('DIMENSION_MISMATCH', `${aName} has ${a.length} dimensions but ${bName} has ${b.length}`, {
      details: { [aName]: a.length, [bName]: b.length },
    });
  }
}

/** Throws INVALID_INPUT naming the first NaN or ±Infinity in `v[offset, offset + length)`; returns if there is none. */
export function assertFinite(v: Float32Array, name: string, offset = 0, length = v.length - offset): void {
  for (let i = 0; i < length; i++) {
    const x = v[offset + i]!;
    if (!Number.isFinite(x)) {
      throw new EmbedderError('INVALID_INPUT', `${name}[${i}] is ${x}: vectors must hold finite numbers`, {
        details: { argument: name, position: i },
      });
    }
  }
}

/** Throws INVALID_INPUT unless `k` is a whole number from 1 to `max`. */
export function assertK(k: number, max: number, what: string): void {
  if (!Number.isInteger(k) || k <= 0 || k > max) {
    throw new EmbedderError('INVALID_INPUT', `k must be a whole number from 1 to the number of ${what} (${max}), got ${k}`, {
      details: { argument: 'k', k, max },
    });
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return v.constructor?.name ?? 'object';
}
