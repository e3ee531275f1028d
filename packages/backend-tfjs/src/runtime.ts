import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError, noopLogger, type Logger } from '@embedder-rag/core';

/** The tensor runtimes TensorFlow.js can run on here, best first. */
export type TfjsRuntimeName = 'node-gpu' | 'node' | 'wasm' | 'cpu';

/** The runtime order tried at init. */
export const DEFAULT_RUNTIME_ORDER: readonly TfjsRuntimeName[] = ['node-gpu', 'node', 'wasm', 'cpu'];

/** What a runtime reports once it is active. */
export interface TfjsRuntimeInfo {
  name: TfjsRuntimeName;
  /** For logs, SessionInfo.runtime and /info, e.g. `tfjs-wasm 4.22.0 (simd, 1 thread)`. */
  label: string;
  /** Where tensors live: `cuda` only for tfjs-node-gpu. */
  device: 'cpu' | 'cuda';
}

/** A way to make a runtime TensorFlow.js's active backend. */
export interface TfjsRuntimeCandidate {
  name: TfjsRuntimeName;
  /** Loads the runtime and activates it; throws (with the reason) when it is not available. */
  activate(): Promise<TfjsRuntimeInfo>;
}

/** Options of the wasm runtime. */
export interface WasmRuntimeOptions {
  /** Threads for the wasm kernels when the platform supports wasm threads; default: the cores available. */
  threads?: number;
}

async function activateTfBackend(backendName: string, packageName: string): Promise<void> {
  // tfjs keeps one engine per process: the last successful setBackend wins for every session.
  if (!(await tf.setBackend(backendName)) || tf.getBackend() !== backendName) {
    throw new Error(`${packageName} loaded but tfjs could not activate its '${backendName}' backend`);
  }
}

/** tfjs-node-gpu: libtensorflow with CUDA (its install downloads libtensorflow; an optional peer dependency). */
export const nodeGpuRuntime: TfjsRuntimeCandidate = {
  name: 'node-gpu',
  async activate() {
    await import('@tensorflow/tfjs-node-gpu');
    await activateTfBackend('tensorflow', '@tensorflow/tfjs-node-gpu');
    return { name: 'node-gpu', label: `tfjs-node-gpu ${tf.version_core} (cuda)`, device: 'cuda' };
  },
};

/** tfjs-node: libtensorflow on the CPU (an optional peer dependency). */
export const nodeRuntime: TfjsRuntimeCandidate = {
  name: 'node',
  async activate() {
    await import('@tensorflow/tfjs-node');
    await activateTfBackend('tensorflow', '@tensorflow/tfjs-node');
    return { name: 'node', label: `tfjs-node ${tf.version_core} (libtensorflow cpu)`, device: 'cpu' };
  },
};

/** The wasm runtime (XNNPACK kernels; SIMD, and threads where the platform has wasm threads). */
export function wasmRuntime(options: WasmRuntimeOptions = {}): TfjsRuntimeCandidate {
  return {
    name: 'wasm',
    async activate() {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm binaries are read from the package's dist folder.
      const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
      wasm.setWasmPaths(`${dirname(wasmFile)}/`);
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      const threaded = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
      if (threaded) wasm.setThreadsCount(options.threads ?? availableParallelism());
      await activateTfBackend('wasm', '@tensorflow/tfjs-backend-wasm');
      const threads = threaded ? wasm.getThreadsCount() : 1;
      const features = [simd ? 'simd' : 'no simd', `${threads} thread${threads === 1 ? '' : 's'}`];
      return { name: 'wasm', label: `tfjs-wasm ${wasm.version_wasm} (${features.join(', ')})`, device: 'cpu' };
    },
  };
}

/** The plain JavaScript runtime: always available, slowest. */
export const cpuRuntime: TfjsRuntimeCandidate = {
  name: 'cpu',
  async activate() {
    await import('@tensorflow/tfjs-backend-cpu');
    await activateTfBackend('cpu', '@tensorflow/tfjs-backend-cpu');
    return { name: 'cpu', label: `tfjs-cpu ${tf.version_core} (javascript)`, device: 'cpu' };
  },
};

/** The built-in candidate for a runtime name. */
export function builtinRuntime(name: TfjsRuntimeName, options: WasmRuntimeOptions = {}): TfjsRuntimeCandidate {
  switch (name) {
    case 'node-gpu':
      return nodeGpuRuntime;
    case 'node':
      return nodeRuntime;
    case 'wasm':
      return wasmRuntime(options);
    case 'cpu':
      return cpuRuntime;
  }
}

/** A runtime that could not be activated, and why. */
export interface RuntimeFailure {
  name: TfjsRuntimeName;
  reason: string;
}

/** The outcome of {@link selectRuntime}. */
export interface RuntimeSelection {
  runtime: TfjsRuntimeInfo;
  /** The better runtimes that were tried first and failed. */
  skipped: RuntimeFailure[];
}

/**
 * Activates the first candidate that works, in order, logging each that fails (at debug: a missing optional
 * native runtime is the normal case) and the one chosen (at info).
 * @throws EmbedderError BACKEND_UNAVAILABLE listing every candidate and its reason when none works.
 */
export async function selectRuntime(candidates: readonly TfjsRuntimeCandidate[], logger: Logger = noopLogger): Promise<RuntimeSelection> {
  const skipped: RuntimeFailure[] = [];
  for (const candidate of candidates) {
    try {
      const runtime = await candidate.activate();
      logger.info('tfjs runtime selected', { runtime: runtime.label, skipped });
      return { runtime, skipped };
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
      skipped.push({ name: candidate.name, reason });
      logger.debug('tfjs runtime unavailable', { runtime: candidate.name, reason });
    }
  }
  throw new EmbedderError(
    'BACKEND_UNAVAILABLE',
    `no TensorFlow.js runtime could be activated (${skipped.map((failure) => `${failure.name}: ${failure.reason}`).join('; ') || 'none configured'})`,
    { details: { failures: skipped } },
  );
}
