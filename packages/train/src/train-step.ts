import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no op gradients; the @tensorflow/tfjs bundle registers them all (into tfjs-core's
// global registry, shared by every copy). tfjs-core's own register_all_gradients is ESM that Node cannot load.
import '@tensorflow/tfjs';
import type { Dropout } from '@embedder-rag/backend-tfjs';
import type { TextEncoding } from '@embedder-rag/tokenizer';
import { cosineSimilarityLoss, multipleNegativesRankingLoss, type LossName } from './losses';
import { clipCoefficient, gradientNorm, type Gradient, type Optimizer } from './optimizer';
import { WORD_EMBEDDINGS, type BatchWords, type TrainableBert } from './trainable-bert';

/** One batch of tokenised pairs. */
export interface PairBatch {
  first: TextEncoding[];
  second: TextEncoding[];
  /** Scores in [0, 1] (CosineSimilarityLoss). */
  scores?: Float32Array;
}

/** The batch's loss as a scalar tensor: both columns in one forward pass (rows padded to the longest text). */
export function batchLoss(model: TrainableBert, batch: PairBatch, loss: LossName, dropout?: Dropout, words?: BatchWords): tf.Scalar {
  const count = batch.first.length;
  const embeddings = model.embed([...batch.first, ...batch.second], dropout, words);
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
  /** When given, each phase's process CPU time (ms) is added to it under the phase's name (for profiles). */
  cpuMs?: Map<string, number>;
}

/** Runs `work`, adding the process CPU time it took to `cpuMs` under `phase` (CPU time: robust on a busy machine). */
export function timed<T>(cpuMs: Map<string, number> | undefined, phase: string, work: () => T): T {
  if (!cpuMs) return work();
  const before = process.cpuUsage();
  try {
    return work();
  } finally {
    const spent = process.cpuUsage(before);
    cpuMs.set(phase, (cpuMs.get(phase) ?? 0) + (spent.user + spent.system) / 1000);
  }
}

/**
 * Forward, backward and one optimizer update. Returns the loss before the update and the gradient norm (when
 * clipping). The gradients leave tfjs as Float32Arrays right after the backward pass (their tensors freed), the
 * word embeddings' as the rows of the batch's tokens only (see TrainableBert.batchWords).
 */
export function trainStep(model: TrainableBert, optimizer: Optimizer, batch: PairBatch, options: TrainStepOptions): { loss: number; gradientNorm?: number } {
  const { cpuMs } = options;
  const words = timed(cpuMs, 'batch word rows', () => model.batchWords([...batch.first, ...batch.second]));
  try {
    const variables = [words.table, ...[...model.parameters].filter(([name]) => name !== WORD_EMBEDDINGS).map(([, variable]) => variable)];
    const { value, grads } = timed(cpuMs, 'forward + backward', () => tf.variableGrads(() => batchLoss(model, batch, options.loss, options.dropout, words), variables));
    const gradients = new Map<string, Gradient>();
    let loss = Number.NaN;
    timed(cpuMs, 'gradients out of tfjs', () => {
      try {
        loss = value.dataSync()[0]!;
        for (const [name, variable] of model.parameters) {
          const gradient = grads[name === WORD_EMBEDDINGS ? words.table.name : variable.name];
          if (!gradient) continue;
          const values = gradient.dataSync() as Float32Array;
          gradients.set(name, name === WORD_EMBEDDINGS ? { rows: words.rows, values } : values);
        }
      } finally {
        value.dispose();
        tf.dispose(Object.values(grads));
      }
    });
    const clip = options.maxGradNorm;
    const clipping = clip !== undefined && Number.isFinite(clip);
    const norm = clipping ? timed(cpuMs, 'gradient norm', () => gradientNorm(gradients.values())) : 0;
    timed(cpuMs, 'optimizer', () => optimizer.apply(model.parameters, gradients, options.learningRate, clipping ? clipCoefficient(norm, clip) : 1));
    return clipping ? { loss, gradientNorm: norm } : { loss };
  } finally {
    words.table.dispose();
  }
}
