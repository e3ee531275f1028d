import type { ModelSpec } from '@embedder/core';
import { loadModelSpec } from '@embedder/models';

/** A model folder read as the facade reads it (@embedder/models loadModelSpec), for backend tests. */
export function loadTestModel(dir: string): Promise<ModelSpec> {
  return loadModelSpec(dir);
}
