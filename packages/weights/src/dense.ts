import { parseDenseActivation, type DenseLayer, type DenseLayerSpec } from '@embedder-rag/core';
import { openWeights } from './open';

/**
 * Reads a sentence-transformers Dense module's weights (`linear.weight` [out, in], `linear.bias` [out] when the
 * config has a bias) from its model.safetensors or pytorch_model.bin, ready for core's applyDenseLayers.
 * @throws EmbedderError MODEL_INVALID / WEIGHTS_INVALID naming the file and tensor when they are missing or mis-shaped.
 */
export async function loadDenseLayer(spec: DenseLayerSpec): Promise<DenseLayer> {
  const weights = await openWeights(spec.weightsPath);
  const layer: DenseLayer = {
    inFeatures: spec.inFeatures,
    outFeatures: spec.outFeatures,
    weight: weights.float32('linear.weight', [spec.outFeatures, spec.inFeatures]).slice(),
    activation: parseDenseActivation(spec.activation, spec.weightsPath),
    file: spec.weightsPath,
  };
  if (spec.bias) layer.bias = weights.float32('linear.bias', [spec.outFeatures]).slice();
  return layer;
}

/** Every Dense module of a model, in pipeline order. */
export function loadDenseLayers(specs: readonly DenseLayerSpec[]): Promise<DenseLayer[]> {
  return Promise.all(specs.map(loadDenseLayer));
}
