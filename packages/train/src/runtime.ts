import * as tf from '@tensorflow/tfjs-core';
import { noopLogger, type Logger } from '@embedder-rag/core';
import { builtinRuntime, DEFAULT_RUNTIME_ORDER, selectRuntime, type TfjsRuntimeInfo, type TfjsRuntimeName } from '@embedder-rag/backend-tfjs';
import { registerTrainingKernels } from './wasm-kernels';

/**
 * Activates the best TensorFlow.js runtime for training (tfjs-node-gpu, tfjs-node, wasm, cpu: the inference order;
 * the plain cpu runtime trains about 25× slower than wasm) and registers the kernels training needs.
 */
export async function activateTrainingRuntime(runtimes: readonly TfjsRuntimeName[] = DEFAULT_RUNTIME_ORDER, logger: Logger = noopLogger): Promise<TfjsRuntimeInfo> {
  tf.env().set('PROD', true);
  registerTrainingKernels();
  const { runtime } = await selectRuntime(
    runtimes.map((name) => builtinRuntime(name)),
    logger,
  );
  // Again now that the chosen runtime's own kernels are registered (the wasm BatchMatMul wrapper needs them).
  registerTrainingKernels();
  return runtime;
}
