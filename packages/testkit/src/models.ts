import type { ModelSpec } from '@embedder-rag/core';
import { loadModelSpec } from '@embedder-rag/models';

/** A model folder read as the facade reads it (@embedder-rag/models loadModelSpec), for backend tests. */
export function loadTestModel(dir: string): Promise<ModelSpec> {
  return loadModelSpec(dir);
}
