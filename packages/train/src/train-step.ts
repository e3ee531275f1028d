import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no op gradients; the @tensorflow/tfjs bundle registers them all (into tfjs-core's
// global registry, shared by every copy). tfjs-core's own register_all_gradients is ESM that Node cannot load.
import '@tensorflow/tfjs';
import type { Dropout } from '@embedder-rag/backend-tfjs';
import type { TextEncoding } from '@embedder-rag/tokenizer';
import { cosineSimilarityLoss, multipleNegativesRankingLoss, type LossName } from './losses';
import { clipGradientNorm, type Optimizer } from './optimizer';
import type { TrainableBert } from './trainable-bert';

/** One batch of tokenised pairs. */
export interface PairBatch {
  first: TextEncoding[];
  second: TextEncoding[];
  /** Scores in [0, 1] (CosineSimilarityLoss). */
  scores?: Float32Array;
}

/** The batch's loss as a scalar tensor: both columns in one forward pass (rows padded to the longest text). */
export function batchLoss(model: TrainableBert, batch: PairBatch, loss: LossName, dropout?: Dropout): tf.Scalar {
  const count = batch.first.length;
  const embeddings = model.embed([...batch.first, ...batch.second], dropout);
  const u = tf.slice(embeddings, [0, 0], [count, -1]);
  const v = tf.slice(embeddings, [count, 0], [count, -1]);
  if (loss === 'mnrl') return multipleNegativesRankingLoss(u, v);
  return cosineSimilarityLoss(u, v, tf.tensor1d(batch.scores!));
}

/** Options of {@link trainStep}. */
export interface TrainStepOptions {
  loss: LossName;
  learningRate: number;
  /** Clip the global gradient norm to this (torch clip_grad_norm_); undefined or Infinity: no clipping. */
  maxGradNorm?: number;
  /** Training-mode dropout; none = eval mode. */
  dropout?: Dropout;
}

/** Forward, backward and one optimizer update. Returns the loss before the update and the gradient norm. */
export function trainStep(model: TrainableBert, optimizer: Optimizer, batch: PairBatch, options: TrainStepOptions): { loss: number; gradientNorm?: number } {
  const variables = [...model.parameters.values()];
  const { value, grads } = tf.variableGrads(() => batchLoss(model, batch, options.loss, options.dropout), variables);
  const gradients = new Map<string, tf.Tensor>();
  for (const variable of variables) {
    const gradient = grads[variable.name];
    if (gradient) gradients.set(model.parameterName(variable), gradient);
  }
  try {
    const loss = value.dataSync()[0]!;
    const clip = options.maxGradNorm;
    const gradientNorm = clip !== undefined && Number.isFinite(clip) ? clipGradientNorm(gradients, clip) : undefined;
    optimizer.apply(model.parameters, gradients, options.learningRate);
    return gradientNorm === undefined ? { loss } : { loss, gradientNorm };
  } finally {
    value.dispose();
    tf.dispose([...gradients.values()]);
  }
}
