import type { BackendRegistration } from '@embedder-rag/core';
import { TfjsBackend, type TfjsBackendOptions } from './backend';

export { TfjsBackend, type TfjsBackendOptions } from './backend';
export { TfjsSession, TFJS_WEIGHT_FILES } from './session';
export {
  readBertConfig,
  bertWeights,
  bertForward,
  bertStyleForward,
  bertParameterShapes,
  BERT_VARIANT,
  type BertConfig,
  type BertWeights,
  type BertVariant,
} from './families/bert';
export { xlmRobertaVariant } from './families/xlm-roberta';
export type { Dropout } from './tensor-ops';
export type { ParameterSource, WeightSource } from './weight-loaders';
export { ENCODER_FAMILIES, encoderFamilyFor, supportedModelTypes } from './families';
export type { EncoderFamily, EncoderInputs, LoadedEncoder } from './encoder-family';
export type { HiddenActivation } from './config-fields';
export {
  selectRuntime,
  builtinRuntime,
  wasmRuntime,
  nodeRuntime,
  nodeGpuRuntime,
  cpuRuntime,
  DEFAULT_RUNTIME_ORDER,
  type TfjsRuntimeName,
  type TfjsRuntimeInfo,
  type TfjsRuntimeCandidate,
  type RuntimeFailure,
  type RuntimeSelection,
  type WasmRuntimeOptions,
} from './runtime';

/** Priority of the tfjs backend: below onnx (100), so it is the fallback when no backend is asked for. */
export const TFJS_PRIORITY = 50;

/**
 * The registration of the TensorFlow.js backend. Importing this package registers nothing: pass the result to a
 * BackendRegistry (`registry.register(tfjsBackend())`).
 */
export function tfjsBackend(options: TfjsBackendOptions = {}): BackendRegistration {
  return { name: 'tfjs', priority: TFJS_PRIORITY, create: () => new TfjsBackend(options) };
}
