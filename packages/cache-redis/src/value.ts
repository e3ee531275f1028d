import { crc32 } from 'node:zlib';

/** 'EMV1' read as a little-endian u32: the first four bytes of every value this package writes. */
const MAGIC = 0x3156_4d45;
/** magic, dimension, checksum, reserved (0): four u32, so the floats start 4-byte aligned. */
export const HEADER_BYTES = 16;

/**
 * A vector as stored in Redis: a 16-byte header (magic, dimension, crc32, 0) then the float32 values, little-endian.
 * The checksum covers the cache key as well as the header and values, so a value copied or written under another
 * key fails it as surely as a damaged one: either reads as a miss, never as a wrong vector.
 */
export function encodeVector(key: string, vector: Float32Array): Buffer {
  const value = Buffer.allocUnsafe(HEADER_BYTES + vector.byteLength);
  value.writeUInt32LE(MAGIC, 0);
  value.writeUInt32LE(vector.length, 4);
  value.writeUInt32LE(0, 12);
  value.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), HEADER_BYTES);
  value.writeUInt32LE(checksum(key, value), 8);
  return value;
}

/** The vector in `value` (a fresh array), or undefined when it is not a value of `key` with `dimension` floats. */
export function decodeVector(key: string, value: Buffer, dimension: number): Float32Array | undefined {
  if (value.length !== HEADER_BYTES + dimension * 4) return undefined;
  if (value.readUInt32LE(0) !== MAGIC || value.readUInt32LE(4) !== dimension || value.readUInt32LE(12) !== 0) return undefined;
  if (value.readUInt32LE(8) !== checksum(key, value)) return undefined;
  const vector = new Float32Array(dimension);
  new Uint8Array(vector.buffer).set(value.subarray(HEADER_BYTES));
  return vector;
}

/** crc32 of the key, then the value without its checksum field. */
function checksum(key: string, value: Buffer): number {
  let crc = crc32(key);
  crc = crc32(value.subarray(0, 8), crc);
  return crc32(value.subarray(12), crc);
}
