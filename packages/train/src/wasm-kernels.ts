import {
  BatchMatMul,
  getKernel,
  Identity,
  registerKernel,
  Transpose,
  unregisterKernel,
  UnsortedSegmentSum,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's backend object these kernels use (the same calls as its own JS-side kernels). */
interface WasmBackendLike {
  incRef(dataId: object): void;
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string, memoryOffset?: number, values?: ArrayLike<number>): TensorInfo;
  disposeData(dataId: object): boolean;
}

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs: NamedAttrMap;
}

/**
 * UnsortedSegmentSum on the wasm runtime: out[segmentIds[i]] += x[i] (rows of x), segments outside
 * [0, numSegments) dropped as TensorFlow does. tf.gather's gradient is this op, and tfjs-backend-wasm 4.22 has no
 * kernel for it, so without it the word-embedding table cannot train on wasm.
 */
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
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

/** Marks the BatchMatMul wrapper, so registering twice does not wrap the wrapper. */
const TRANSPOSING = Symbol('embedder-train transposing BatchMatMul');

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul through XNNPACK only for a single matrix product with neither operand
 * transposed; everything else falls to a naive triple loop (~1 GFLOP/s against XNNPACK's ~25). Training's backward
 * pass is made of exactly those products (dA = dY·Bᵀ, dB = Aᵀ·dY), so this wrapper writes the transposed operand
 * out first with the wasm Transpose kernel (memory-bound, cheap) and calls the original kernel untransposed. Batched
 * products (attention) stay on the loop, given the operand order it reads contiguously (B transposed). Products
 * that XNNPACK already ran are passed through unchanged, so inference is not affected.
 */
function transposingBatchMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  const wrapped = (args: KernelArgs): TensorInfo => {
    const { inputs, attrs } = args;
    const a = inputs.a!;
    const b = inputs.b!;
    let transposeA = attrs.transposeA === true;
    let transposeB = attrs.transposeB === true;
    const batch = (shape: number[]) => shape.slice(0, -2).reduce((product, dim) => product * dim, 1);
    const single = batch(a.shape) === 1 && batch(b.shape) === 1;
    // Single products: XNNPACK wants (false, false). Batched ones: the loop reads both operands along k when only B is transposed.
    const wantA = false;
    const wantB = !single;
    if (transposeA === wantA && transposeB === wantB) return original(args as never) as TensorInfo;
    const backend = args.backend as WasmBackendLike;
    const made: TensorInfo[] = [];
    const swapLast = (x: TensorInfo): TensorInfo => {
      const rank = x.shape.length;
      const perm = Array.from({ length: rank }, (_, axis) => (axis < rank - 2 ? axis : axis === rank - 2 ? rank - 1 : rank - 2));
      const out = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } } as never) as TensorInfo;
      made.push(out);
      return out;
    };
    try {
      let left = a;
      let right = b;
      if (transposeA !== wantA) {
        left = swapLast(a);
        transposeA = wantA;
      }
      if (transposeB !== wantB) {
        right = swapLast(b);
        transposeB = wantB;
      }
      return original({ inputs: { a: left, b: right }, backend: args.backend, attrs: { ...attrs, transposeA, transposeB } } as never) as TensorInfo;
    } finally {
      for (const info of made) backend.disposeData(info.dataId);
    }
  };
  return Object.assign(wrapped, { [TRANSPOSING]: true }) as unknown as KernelFunc;
}

/** Marks the sharing Identity kernel. */
const SHARING = Symbol('embedder-train sharing Identity');

/**
 * Identity (tf.clone) sharing the input's memory, as the cpu runtime's does, instead of tfjs-backend-wasm's copy.
 * Under a gradient tape tfjs clones every tensor a kernel saves for the backward pass, so with the copying kernel a
 * training step held each activation twice (1.25 GB of a MiniLM step's 2.9 GB peak). Tensors are immutable (a
 * variable's assign swaps its data, no kernel writes into an input), and the backend counts references, so sharing
 * is safe.
 */
function sharingIdentity(args: KernelArgs): TensorInfo {
  const x = args.inputs.x!;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Registers the kernels training needs beyond what the active runtimes ship (idempotent). Call it again once the
 * wasm runtime is imported: the BatchMatMul wrapper needs the original kernel registered.
 */
export function registerTrainingKernels(): void {
  if (getKernel(UnsortedSegmentSum, 'wasm') === undefined) {
    registerKernel({ kernelName: UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum } as unknown as KernelConfig);
  }
  const matMul = getKernel(BatchMatMul, 'wasm');
  const transpose = getKernel(Transpose, 'wasm');
  if (matMul && transpose && !(TRANSPOSING in matMul.kernelFunc)) {
    unregisterKernel(BatchMatMul, 'wasm');
    registerKernel({ ...matMul, kernelFunc: transposingBatchMatMul(matMul.kernelFunc, transpose.kernelFunc) });
  }
  const identity = getKernel(Identity, 'wasm');
  if (identity && !(SHARING in identity.kernelFunc)) {
    const original = identity.kernelFunc;
    // Strings (never in training) keep the original kernel.
    const kernelFunc = (args: KernelArgs) => (args.inputs.x!.dtype === 'string' ? original(args as never) : sharingIdentity(args));
    unregisterKernel(Identity, 'wasm');
    registerKernel({ ...identity, kernelFunc: Object.assign(kernelFunc, { [SHARING]: true }) as unknown as KernelFunc });
  }
}
