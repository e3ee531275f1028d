import { BackendRegistry, type BackendRegistration, type Logger } from '@embedder-rag/core';
import { onnxBackend } from '@embedder-rag/backend-onnx';

/**
 * A registry with the backends that are installed: onnx (a dependency of this package) and tfjs when
 * @embedder-rag/backend-tfjs is installed beside it (an optional peer dependency, imported only if present).
 */
export async function createDefaultRegistry(options: { logger?: Logger } = {}): Promise<BackendRegistry> {
  const registry = new BackendRegistry(options);
  registry.register(onnxBackend());
  const tfjs = await optionalTfjsBackend();
  if (tfjs) registry.register(tfjs);
  return registry;
}

async function optionalTfjsBackend(): Promise<BackendRegistration | undefined> {
  try {
    // A variable specifier keeps bundlers from requiring the optional package at build time.
    const specifier = '@embedder-rag/backend-tfjs';
    const module = (await import(specifier)) as { tfjsBackend?: () => BackendRegistration };
    return module.tfjsBackend?.();
  } catch {
    return undefined;
  }
}
