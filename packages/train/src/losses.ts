import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from './trainable-bert';

/** The losses the trainer knows, by their CLI names. */
export type LossName = 'cosine' | 'mnrl';

/** sentence-transformers' MultipleNegativesRankingLoss scale (the inverse temperature of the softmax). */
export const MNRL_SCALE = 20;

/**
 * sentence-transformers' CosineSimilarityLoss: the mean squared error between cos(u, v) and the pair's score.
 * cos as torch.cosine_similarity: u·v / sqrt(max(‖u‖²‖v‖², 1e-16)).
 */
export function cosineSimilarityLoss(u: tf.Tensor2D, v: tf.Tensor2D, scores: tf.Tensor1D): tf.Scalar {
  const dot = tf.sum(tf.mul(u, v), 1);
  const norms = tf.sqrt(tf.maximum(tf.mul(tf.sum(tf.square(u), 1), tf.sum(tf.square(v), 1)), 1e-16));
  return tf.mean(tf.squaredDifference(tf.div(dot, norms), scores));
}

/**
 * sentence-transformers' MultipleNegativesRankingLoss: for each anchor, cross-entropy over its cosine similarities
 * (× scale) to every positive of the batch, the matching positive being the right class (in-batch negatives).
 */
export function multipleNegativesRankingLoss(anchors: tf.Tensor2D, positives: tf.Tensor2D, scale = MNRL_SCALE): tf.Scalar {
  const logits = tf.mul(tf.matMul(l2Normalize(anchors), l2Normalize(positives), false, true), scale);
  const logProbabilities = tf.logSoftmax(logits);
  const diagonal = tf.sum(tf.mul(logProbabilities, tf.eye(anchors.shape[0])), 1);
  return tf.neg(tf.mean(diagonal));
}
