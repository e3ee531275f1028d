import type { BackendRegistration } from '@embedder-rag/core';
import { OnnxBackend } from './backend';

export { OnnxBackend } from './backend';
export { OnnxSession, ONNX_FILES, findOnnxFile } from './session';

/**
 * The registration of the ONNX Runtime backend. Importing this package registers nothing: pass the result to
 * a BackendRegistry (`registry.register(onnxBackend())`).
 */
export function onnxBackend(): BackendRegistration {
  return { name: 'onnx', priority: 100, create: () => new OnnxBackend() };
}
