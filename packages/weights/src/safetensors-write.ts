import { EmbedderError } from '@embedder-rag/core';
import { DTYPE_BYTES, type WeightDtype } from './dtype';
import { elementCount, formatShape } from './weight-set';

/** One tensor to write: its dtype, shape and raw little-endian bytes. */
export interface TensorToWrite {
  name: string;
  dtype: WeightDtype;
  shape: readonly number[];
  bytes: Uint8Array;
}

/** safetensors aligns the data section to 8 bytes by padding the JSON header with spaces. */
const HEADER_ALIGNMENT = 8;

/**
 * Serialises tensors in the safetensors format (8-byte little-endian header length, JSON header with dtype, shape
 * and data_offsets, then the tensors' bytes in the given order), readable by {@link readSafetensors} and by the
 * Python `safetensors` package.
 * @throws EmbedderError WEIGHTS_INVALID when a tensor's byte count does not match its dtype and shape, or a name repeats.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const expected = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
    if (tensor.bytes.byteLength !== expected) {
      throw new EmbedderError('WEIGHTS_INVALID', `tensor '${tensor.name}' ${tensor.dtype}${formatShape(tensor.shape)} needs ${expected} B, got ${tensor.bytes.byteLength}`);
    }
    if (Object.hasOwn(header, tensor.name)) throw new EmbedderError('WEIGHTS_INVALID', `tensor '${tensor.name}' is written twice`);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  const unpadded = new TextEncoder().encode(json).byteLength;
  json += ' '.repeat((HEADER_ALIGNMENT - ((8 + unpadded) % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const tensor of tensors) {
    out.set(tensor.bytes, at);
    at += tensor.bytes.byteLength;
  }
  return out;
}

/** A float32 tensor as {@link TensorToWrite} (a view of the array's bytes, no copy). */
export function float32Tensor(name: string, shape: readonly number[], values: Float32Array): TensorToWrite {
  return { name, dtype: 'F32', shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}
