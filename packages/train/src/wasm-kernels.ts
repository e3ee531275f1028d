import { getKernel, registerKernel, UnsortedSegmentSum, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's backend object this kernel uses (the same calls as its own JS-side kernels). */
interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string, memoryOffset?: number, values?: ArrayLike<number>): TensorInfo;
}

/**
 * UnsortedSegmentSum on the wasm runtime: out[segmentIds[i]] += x[i] (rows of x), segments outside
 * [0, numSegments) dropped as TensorFlow does. tf.gather's gradient is this op, and tfjs-backend-wasm 4.22 has no
 * kernel for it, so without it the word-embedding table cannot train on wasm.
 */
function unsortedSegmentSum(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = args.inputs.x!;
  const segmentIds = args.inputs.segmentIds!;
  const numSegments = args.attrs.numSegments as number;
  const values = backend.readSync(x.dataId);
  const ids = backend.readSync(segmentIds.dataId);
  const rowSize = x.shape.slice(1).reduce((product, dim) => product * dim, 1);
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * rowSize;
    const to = segment * rowSize;
    for (let k = 0; k < rowSize; k++) out[to + k]! += values[from + k]!;
  }
  return backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
}

/** Registers the kernels training needs beyond what the active runtimes ship (idempotent). */
export function registerTrainingKernels(): void {
  if (getKernel(UnsortedSegmentSum, 'wasm') === undefined) {
    registerKernel({ kernelName: UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum } as unknown as KernelConfig);
  }
}
