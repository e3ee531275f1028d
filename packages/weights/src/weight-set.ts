import { EmbedderError } from '@embedder-rag/core';
import { toFloat32, type WeightDtype } from './dtype';

/** Name, dtype and shape of one stored tensor. */
export interface TensorInfo {
  name: string;
  dtype: WeightDtype;
  shape: readonly number[];
}

/** A stored tensor whose bytes are read on demand (so a truncated file fails on the tensor that is cut). */
export interface TensorEntry extends TensorInfo {
  /** The tensor's raw little-endian bytes. Throws WEIGHTS_INVALID when the file does not hold them all. */
  bytes(): Uint8Array;
}

/** The container format a weight file was read from. */
export type WeightFormat = 'safetensors' | 'pytorch';

/** Product of a shape's dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** `[a, b]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The tensors of one weight file, by their stored names. Reads are lazy; F32 data comes back as a zero-copy view
 * when aligned, F16/BF16 converted to float32.
 */
export class WeightSet {
  readonly #entries: ReadonlyMap<string, TensorEntry>;

  constructor(
    /** The file the tensors came from (used in every message). */
    readonly file: string,
    readonly format: WeightFormat,
    entries: readonly TensorEntry[],
  ) {
    this.#entries = new Map(entries.map((entry) => [entry.name, entry]));
  }

  /** Stored tensor names, in file order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** True when the file stores a tensor of this exact name. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Dtype and shape of a stored tensor, or undefined. */
  info(name: string): TensorInfo | undefined {
    const entry = this.#entries.get(name);
    return entry && { name: entry.name, dtype: entry.dtype, shape: entry.shape };
  }

  /**
   * A tensor as float32, checked against `expectedShape` when given.
   * @throws EmbedderError WEIGHTS_INVALID naming the tensor when it is missing, of another shape, of a dtype that
   * is not a float, or cut off by the end of the file.
   */
  float32(name: string, expectedShape?: readonly number[]): Float32Array {
    const entry = this.#entries.get(name);
    if (!entry) {
      throw new EmbedderError('WEIGHTS_INVALID', `tensor '${name}' is missing from ${this.file}`, {
        details: { file: this.file, tensor: name },
      });
    }
    if (expectedShape && formatShape(entry.shape) !== formatShape(expectedShape)) {
      throw new EmbedderError(
        'WEIGHTS_INVALID',
        `tensor '${name}' in ${this.file} has shape ${formatShape(entry.shape)}, expected ${formatShape(expectedShape)}`,
        { details: { file: this.file, tensor: name, shape: entry.shape, expected: expectedShape } },
      );
    }
    return toFloat32(entry.bytes(), entry.dtype, name, this.file);
  }

  /**
   * A stored tensor's raw little-endian bytes as stored (any dtype), for copying it unchanged into another file.
   * @throws EmbedderError WEIGHTS_INVALID when it is missing or cut off by the end of the file.
   */
  rawBytes(name: string): Uint8Array {
    const entry = this.#entries.get(name);
    if (!entry) {
      throw new EmbedderError('WEIGHTS_INVALID', `tensor '${name}' is missing from ${this.file}`, { details: { file: this.file, tensor: name } });
    }
    return entry.bytes();
  }
}
