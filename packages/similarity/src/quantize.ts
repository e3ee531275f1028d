import { EmbedderError } from '@embedder-rag/core';
import { assertFinite, assertVector } from './validate';

/** An int8-quantised vector: xᵢ ≈ values[i] · scale + offset. */
export interface Int8Quantized {
  values: Int8Array;
  /** Step between two int8 levels, in vector units (> 0). */
  scale: number;
  /** Added after scaling; 0 for symmetric quantisation. @default 0 */
  offset?: number;
}

/** Options of {@link quantizeInt8}. */
export interface QuantizeInt8Options {
  /**
   * symmetric: levels −127…127 around 0, scale = max|x| / 127 (0 stays exactly 0, dot products stay meaningful);
   * asymmetric: levels −128…127 spread over [min, max] (finer steps for one-signed data). @default 'symmetric'
   */
  mode?: 'symmetric' | 'asymmetric';
}

/** Quantises `v` to int8 (4× smaller); error per value is at most scale / 2. O(d). */
export function quantizeInt8(v: Float32Array, options: QuantizeInt8Options = {}): Int8Quantized {
  assertVector(v, 'v');
  assertFinite(v, 'v');
  const mode = options.mode ?? 'symmetric';
  const values = new Int8Array(v.length);
  if (mode === 'symmetric') {
    let maxAbs = 0;
    for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
    const scale = maxAbs > 0 ? maxAbs / 127 : 1;
    for (let i = 0; i < v.length; i++) values[i] = Math.max(-127, Math.min(127, Math.round(v[i]! / scale)));
    return { values, scale, offset: 0 };
  }
  if (mode !== 'asymmetric') throw new EmbedderError('INVALID_INPUT', `mode must be symmetric or asymmetric, got ${String(mode)}`);
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const scale = max > min ? (max - min) / 255 : 1;
  for (let i = 0; i < v.length; i++) values[i] = Math.max(-128, Math.min(127, Math.round((v[i]! - min) / scale) - 128));
  return { values, scale, offset: min + 128 * scale };
}

/** The float vector an {@link Int8Quantized} stands for: values[i] · scale + offset. O(d). */
export function dequantizeInt8(q: Int8Quantized): Float32Array {
  if (typeof q !== 'object' || q === null || !(q.values instanceof Int8Array) || q.values.length === 0) {
    throw new EmbedderError('INVALID_INPUT', 'q.values must be a non-empty Int8Array');
  }
  const offset = q.offset ?? 0;
  if (!Number.isFinite(q.scale) || q.scale <= 0 || !Number.isFinite(offset)) {
    throw new EmbedderError('INVALID_INPUT', `q.scale must be a finite number above 0 and q.offset finite, got ${q.scale} and ${offset}`);
  }
  const out = new Float32Array(q.values.length);
  for (let i = 0; i < out.length; i++) out[i] = q.values[i]! * q.scale + offset;
  return out;
}

/**
 * Binary quantisation: one bit per dimension, set when the value is > 0, packed most significant bit first
 * (numpy packbits order, as sentence-transformers' 'ubinary'). 32× smaller; compare with {@link hammingDistance}.
 */
export function quantizeBinary(v: Float32Array): Uint8Array {
  assertVector(v, 'v');
  assertFinite(v, 'v');
  const out = new Uint8Array(Math.ceil(v.length / 8));
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** Number of differing bits between two packed binary vectors of equal length. O(bytes). */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  for (const [name, x] of [['a', a], ['b', b]] as const) {
    if (!(x instanceof Uint8Array) || x.length === 0) {
      throw new EmbedderError('INVALID_INPUT', `${name} must be a non-empty Uint8Array (see quantizeBinary)`);
    }
  }
  if (a.length !== b.length) {
    throw new EmbedderError('DIMENSION_MISMATCH', `a has ${a.length} bytes but b has ${b.length}`);
  }
  let count = 0;
  for (let i = 0; i < a.length; i++) count += POPCOUNT[a[i]! ^ b[i]!]!;
  return count;
}
