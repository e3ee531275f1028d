import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError } from '@embedder-rag/core';
import { findParameter, readParameter, type WeightSet } from '@embedder-rag/weights';

/** A linear layer as the forward pass uses it: kernel [in, out] (PyTorch's [out, in], transposed once at load). */
export interface LinearWeights {
  kernel: tf.Tensor2D;
  /** Absent for T5's bias-free projections. */
  bias?: tf.Tensor1D;
}

export interface LayerNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/**
 * Where parameters come from besides a weight file: a tensor in PyTorch's layout for a canonical parameter name and
 * its shape. Training hands in its tf.variables, so the forward pass built from them is differentiable.
 */
export type ParameterSource = (name: string, shape: readonly number[]) => tf.Tensor;

/** A weight file (names and spellings resolved by @embedder-rag/weights), or a {@link ParameterSource}. */
export type WeightSource = WeightSet | ParameterSource;

// Loaders of the encoders' parameters, by canonical name, checking each shape. Call them inside tf.tidy so a
// failure part-way disposes what was already created (tidy never disposes variables a ParameterSource hands in).

export function vector(weights: WeightSource, name: string, size: number): tf.Tensor1D {
  if (typeof weights === 'function') return weights(name, [size]) as tf.Tensor1D;
  return tf.tensor1d(readParameter(weights, name, [size]));
}

export function matrix(weights: WeightSource, name: string, rows: number, columns: number): tf.Tensor2D {
  if (typeof weights === 'function') return weights(name, [rows, columns]) as tf.Tensor2D;
  return tf.tensor2d(readParameter(weights, name, [rows, columns]), [rows, columns]);
}

/** The first of several names the file has (e.g. T5's `shared.weight` or `encoder.embed_tokens.weight`). */
export function firstPresent(weights: WeightSet, names: readonly string[]): string {
  const found = names.find((name) => findParameter(weights, name) !== undefined);
  if (found === undefined) {
    throw new EmbedderError('WEIGHTS_INVALID', `none of the tensors ${names.map((name) => `'${name}'`).join(', ')} is in ${weights.file}`, {
      details: { file: weights.file, tensors: names },
    });
  }
  return found;
}

export function layerNormWeights(weights: WeightSource, prefix: string, size: number): LayerNormWeights {
  return { gamma: vector(weights, `${prefix}.weight`, size), beta: vector(weights, `${prefix}.bias`, size) };
}

/** Reads `Linear(in → out)` stored as weight [out, in] (+ bias [out]); the kernel is transposed to [in, out]. */
export function linear(weights: WeightSource, prefix: string, inFeatures: number, outFeatures: number, withBias = true): LinearWeights {
  return tf.tidy(() => {
    const kernel = tf.transpose(matrix(weights, `${prefix}.weight`, outFeatures, inFeatures));
    return withBias ? { kernel, bias: vector(weights, `${prefix}.bias`, outFeatures) } : { kernel };
  });
}

/** Query, key and value projections fused into one [in, 3·out] projection: one matmul per layer instead of three. */
export function fusedLinear(weights: WeightSource, prefixes: readonly string[], inFeatures: number, outFeatures: number, withBias = true): LinearWeights {
  return tf.tidy(() => {
    const parts = prefixes.map((prefix) => linear(weights, prefix, inFeatures, outFeatures, withBias));
    const kernel = tf.concat2d(parts.map((part) => part.kernel), 1);
    return withBias ? { kernel, bias: tf.concat1d(parts.map((part) => part.bias!)) } : { kernel };
  });
}
