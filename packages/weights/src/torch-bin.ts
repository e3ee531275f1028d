import { EmbedderError } from '@embedder-rag/core';
import { unzipSync } from 'fflate';
import { DTYPE_BYTES, type WeightDtype } from './dtype';
import { PickleDict, unpickle, type PickleCallable } from './pickle';
import { elementCount, formatShape, WeightSet, type TensorEntry } from './weight-set';

/** PyTorch storage classes a state dict may name, and the dtype of each. */
const STORAGE_DTYPES: Readonly<Record<string, WeightDtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class StorageType {
  constructor(readonly dtype: WeightDtype) {}
}

class StorageRef {
  constructor(
    readonly dtype: WeightDtype,
    readonly key: string,
    readonly numel: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function invalid(file: string, message: string, details: Record<string, unknown> = {}): EmbedderError {
  return new EmbedderError('WEIGHTS_INVALID', `${file}: ${message}`, { details: { file, ...details } });
}

function intList(value: unknown, what: string, file: string): number[] {
  if (!Array.isArray(value) || !value.every((n) => Number.isSafeInteger(n) && n >= 0)) throw invalid(file, `${what} is not a list of sizes`);
  return value as number[];
}

/** The allow-list: the classes and functions a PyTorch state dict's pickle uses, nothing else. */
function allowList(file: string): (module: string, name: string) => PickleCallable {
  return (module, name) => {
    if (module === 'collections' && name === 'OrderedDict') return () => new PickleDict();
    if (module === 'torch._utils' && name === '_rebuild_tensor_v2') {
      return ([storage, offset, size, stride]) => {
        if (!(storage instanceof StorageRef) || typeof offset !== 'number') throw invalid(file, '_rebuild_tensor_v2 without a storage');
        return new TensorRef(storage, offset, intList(size, 'tensor size', file), intList(stride, 'tensor stride', file));
      };
    }
    // nn.Parameter wraps a tensor: keep the tensor.
    if (module === 'torch._utils' && name === '_rebuild_parameter') return ([tensor]) => tensor;
    const dtype = module === 'torch' ? STORAGE_DTYPES[name] : undefined;
    if (dtype) return Object.assign(() => new StorageType(dtype), { storageType: new StorageType(dtype) });
    throw invalid(file, `refuses to load ${module}.${name}: only the classes of a plain state dict are allowed (no code execution)`, {
      class: `${module}.${name}`,
    });
  };
}

function persistentLoad(file: string): (pid: unknown) => StorageRef {
  return (pid) => {
    const [kind, type, key, , numel] = Array.isArray(pid) ? pid : [];
    const storageType = (type as { storageType?: unknown } | undefined)?.storageType;
    if (kind !== 'storage' || !(storageType instanceof StorageType) || typeof key !== 'string' || typeof numel !== 'number') {
      throw invalid(file, 'unsupported persistent id in the pickle (expected a storage reference)');
    }
    return new StorageRef(storageType.dtype, key, numel);
  };
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && stride[i]! !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/**
 * Reads a PyTorch checkpoint in the zip format (torch >= 1.6: `<archive>/data.pkl` + `<archive>/data/<key>`):
 * the state dict's pickle through a restricted unpickler, tensors as views of their storages.
 * @throws EmbedderError WEIGHTS_INVALID for the legacy (non-zip) format, a corrupt or cut zip, a big-endian
 * file, a refused pickle class or opcode, or a tensor that is not contiguous.
 */
export function readTorchBin(bytes: Uint8Array, file: string): WeightSet {
  if (bytes[0] === 0x80 && bytes[1] !== undefined && bytes[1] <= 5) {
    throw invalid(file, 'is a legacy (pre-1.6, non-zip) PyTorch checkpoint, which is not supported: convert it to safetensors');
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new EmbedderError('WEIGHTS_INVALID', `${file}: not a readable PyTorch zip checkpoint (truncated or corrupt)`, {
      cause: error,
      details: { file },
    });
  }
  const pickleName = Object.keys(files).find((name) => name.endsWith('data.pkl') && name.split('/').length === 2);
  if (!pickleName) throw invalid(file, 'has no <archive>/data.pkl: not a PyTorch checkpoint');
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') throw invalid(file, 'is big-endian, which is not supported');

  let root = unpickle(files[pickleName]!, { findClass: allowList(file), persistentLoad: persistentLoad(file) }, file);
  // Some training scripts wrap the weights: {'state_dict': {...}}.
  if (root instanceof Map && root.get('state_dict') instanceof Map) root = root.get('state_dict');
  if (!(root instanceof Map)) throw invalid(file, 'does not hold a state dict');

  const entries: TensorEntry[] = [];
  for (const [name, value] of root) {
    if (typeof name !== 'string' || !(value instanceof TensorRef)) continue;
    const { storage, offset, shape, stride } = value;
    const size = DTYPE_BYTES[storage.dtype];
    entries.push({
      name,
      dtype: storage.dtype,
      shape,
      bytes: () => {
        if (!isContiguous(shape, stride)) {
          throw invalid(file, `tensor '${name}' is not contiguous (stride ${formatShape(stride)}), which is not supported`, { tensor: name });
        }
        const data = files[`${prefix}data/${storage.key}`];
        const start = offset * size;
        const end = start + elementCount(shape) * size;
        if (!data || end > data.byteLength) {
          throw invalid(file, `tensor '${name}' needs bytes ${start}..${end} of storage ${storage.key}, which the file does not hold (truncated?)`, {
            tensor: name,
          });
        }
        return data.subarray(start, end);
      },
    });
  }
  return new WeightSet(file, 'pytorch', entries);
}
