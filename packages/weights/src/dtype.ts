import { EmbedderError } from '@embedder-rag/core';

/** Element types as safetensors names them (PyTorch storages map onto the same names). */
export type WeightDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<WeightDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Dtypes that {@link toFloat32} converts. */
export const FLOAT_DTYPES: readonly WeightDtype[] = ['F32', 'F16', 'BF16'];

/** True when `value` names a dtype this package knows. */
export function isWeightDtype(value: unknown): value is WeightDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Converts one IEEE half-precision value (as its 16 bits) to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Reads little-endian tensor bytes as float32: a zero-copy view for aligned F32 data on a little-endian host,
 * else a converted copy (F16, BF16, unaligned F32).
 * @throws EmbedderError WEIGHTS_INVALID for any other dtype, naming the tensor.
 */
export function toFloat32(bytes: Uint8Array, dtype: WeightDtype, tensorName: string, file: string): Float32Array {
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the upper half of a float32: shift its bits into place.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new EmbedderError(
        'WEIGHTS_INVALID',
        `tensor '${tensorName}' in ${file} has dtype ${dtype}, which cannot be read as float32 (supported: ${FLOAT_DTYPES.join(', ')})`,
        { details: { file, tensor: tensorName, dtype } },
      );
  }
}
