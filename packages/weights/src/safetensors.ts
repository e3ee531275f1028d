import { EmbedderError } from '@embedder-rag/core';
import { DTYPE_BYTES, isWeightDtype } from './dtype';
import { elementCount, formatShape, WeightSet, type TensorEntry } from './weight-set';

/** Headers larger than this are refused as corrupt (safetensors itself caps them at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function invalid(file: string, message: string, details: Record<string, unknown> = {}): EmbedderError {
  return new EmbedderError('WEIGHTS_INVALID', `${file}: ${message}`, { details: { file, ...details } });
}

/** One tensor as the safetensors JSON header describes it. */
interface HeaderEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

function isNonNegativeInts(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
}

/**
 * Parses a safetensors file held in memory: the 8-byte little-endian header length, the JSON header, then the
 * tensors' bytes, which are read lazily as views of `bytes` (zero-copy where aligned).
 * Checks every entry's dtype, shape and offsets up front; a tensor beyond the end of a truncated file fails when
 * it is read, naming it.
 * @throws EmbedderError WEIGHTS_INVALID for a header that is cut, not JSON, or inconsistent.
 */
export function readSafetensors(bytes: Uint8Array, file: string): WeightSet {
  if (bytes.byteLength < 8) throw invalid(file, `file is truncated (${bytes.byteLength} B, no header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES) throw invalid(file, `header length ${headerLength} B is not plausible (not a safetensors file?)`);
  if (8 + headerLength > bytes.byteLength) {
    throw invalid(file, `file is truncated: the header needs ${8 + headerLength} B, the file has ${bytes.byteLength} B`);
  }
  let header: Record<string, HeaderEntry>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the header is not a JSON object');
    header = parsed as Record<string, HeaderEntry>;
  } catch (error) {
    throw new EmbedderError('WEIGHTS_INVALID', `${file}: the safetensors header is not valid JSON`, { cause: error, details: { file } });
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const entries: TensorEntry[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isWeightDtype(entry.dtype)) throw invalid(file, `tensor '${name}' has unknown dtype ${String(entry.dtype)}`, { tensor: name });
    if (!isNonNegativeInts(entry.shape)) throw invalid(file, `tensor '${name}' has an invalid shape`, { tensor: name });
    const offsets = entry.data_offsets;
    if (!isNonNegativeInts(offsets) || offsets.length !== 2 || offsets[0]! > offsets[1]!) {
      throw invalid(file, `tensor '${name}' has invalid data_offsets`, { tensor: name });
    }
    const [begin, end] = offsets as [number, number];
    const dtype = entry.dtype;
    const shape = entry.shape;
    const expectedBytes = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expectedBytes) {
      throw invalid(file, `tensor '${name}' (${dtype} ${formatShape(shape)}) should take ${expectedBytes} B but its offsets span ${end - begin} B`, {
        tensor: name,
      });
    }
    entries.push({
      name,
      dtype,
      shape,
      bytes: () => {
        if (end > dataLength) {
          throw invalid(
            file,
            `file is truncated: tensor '${name}' needs data bytes ${begin}..${end} but the file holds only ${dataLength} data bytes ` +
              `(${bytes.byteLength} B in all)`,
            { tensor: name, needed: dataStart + end, size: bytes.byteLength },
          );
        }
        return bytes.subarray(dataStart + begin, dataStart + end);
      },
    });
  }
  return new WeightSet(file, 'safetensors', entries);
}
