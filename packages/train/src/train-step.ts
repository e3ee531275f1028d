import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no op gradients; the @tensorflow/tfjs bundle registers them all (into tfjs-core's
// global registry, shared by every copy). tfjs-core's own register_all_gradients is ESM that Node cannot load.
import '@tensorflow/tfjs';
import type { Dropout } from '@embedder-rag/backend-tfjs';
import type { TextEncoding } from '@embedder-rag/tokenizer';
import { cosineSimilarityLoss, multipleNegativesRankingLoss, type LossName } from './losses';
import { clipCoefficient, gradientNorm, ownedValues, type Gradient, type Optimizer } from './optimizer';
import { lengthGroups } from './length-groups';
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
 * Groups of pairs run one after the other under CosineSimilarityLoss, pairs of similar length together. Each group
 * costs its padded tokens (2 texts × its longest text) plus a per-group overhead: the weights transposed and packed
 * again, the gradients read out and summed (~60–80 ms on MiniLM, ~25 tokens' worth).
 */
const PAIR_GROUP_OVERHEAD_TOKENS = 64;

/**
 * Padded tokens per group of pairs at most (unless one pair is longer): what bounds a step's activations. MiniLM,
 * STS-B, 6 steps: wasm heap 770 MB at 256 against 1,062 MB with no bound, CPU per step the same within noise.
 */
export const PAIR_GROUP_MAX_TOKENS = 256;

/** The pairs of `batch` at `indices`. */
function pairsAt(batch: PairBatch, indices: readonly number[]): PairBatch {
  const part: PairBatch = { first: indices.map((i) => batch.first[i]!), second: indices.map((i) => batch.second[i]!) };
  if (batch.scores) part.scores = Float32Array.from(indices, (i) => batch.scores![i]!);
  return part;
}

/** Adds `values` into `into` (float32 sums, as a backward pass accumulating into .grad does). */
function accumulate(into: Float32Array, values: Float32Array): void {
  for (let i = 0; i < into.length; i++) into[i]! += values[i]!;
}

/**
 * Forward, backward and one optimizer update. Returns the loss before the update and the gradient norm (when
 * clipping). The gradients leave tfjs as Float32Arrays right after each backward pass (their tensors freed), the
 * word embeddings' as the rows of the batch's tokens only (see TrainableBert.batchWords).
 *
 * CosineSimilarityLoss is a mean of one term per pair, each depending on that pair's two texts alone, so the batch
 * runs as groups of pairs of similar length, each group's forward and backward (its term × its share of the pairs)
 * before the next's, the gradients summed: the batch's gradient, with one group's activations alive at a time
 * instead of the whole batch's (tfjs keeps every activation and every backward intermediate of a gradient call until
 * it returns). MultipleNegativesRankingLoss compares every anchor with every positive and runs in one pass.
 */
export function trainStep(model: TrainableBert, optimizer: Optimizer, batch: PairBatch, options: TrainStepOptions): { loss: number; gradientNorm?: number } {
  const { cpuMs } = options;
  const count = batch.first.length;
  const words = timed(cpuMs, 'batch word rows', () => model.batchWords([...batch.first, ...batch.second]));
  try {
    const variables = [words.table, ...[...model.parameters].filter(([name]) => name !== WORD_EMBEDDINGS).map(([, variable]) => variable)];
    const groups =
      options.loss === 'cosine'
        ? lengthGroups(
            batch.first.map((encoding, i) => 2 * Math.max(encoding.ids.length, batch.second[i]!.ids.length)),
            PAIR_GROUP_OVERHEAD_TOKENS,
            PAIR_GROUP_MAX_TOKENS,
          )
        : [Array.from({ length: count }, (_, i) => i)];
    const gradients = new Map<string, Gradient>();
    let loss = 0;
    for (const group of groups) {
      const part = group.length === count ? batch : pairsAt(batch, group);
      const share = group.length / count;
      const { value, grads } = timed(cpuMs, 'forward + backward', () =>
        tf.variableGrads(() => {
          const groupLoss = batchLoss(model, part, options.loss, options.dropout, words);
          return share === 1 ? groupLoss : tf.mul(groupLoss, share);
        }, variables),
      );
      timed(cpuMs, 'gradients out of tfjs', () => {
        try {
          loss += value.dataSync()[0]!;
          for (const [name, variable] of model.parameters) {
            const gradient = grads[name === WORD_EMBEDDINGS ? words.table.name : variable.name];
            if (!gradient) continue;
            const sum = gradients.get(name);
            if (sum) accumulate(sum instanceof Float32Array ? sum : sum.values, gradient.dataSync() as Float32Array);
            else gradients.set(name, name === WORD_EMBEDDINGS ? { rows: words.rows, values: ownedValues(gradient) } : ownedValues(gradient));
          }
        } finally {
          value.dispose();
          tf.dispose(Object.values(grads));
        }
      });
    }
    const clip = options.maxGradNorm;
    const clipping = clip !== undefined && Number.isFinite(clip);
    const norm = clipping ? timed(cpuMs, 'gradient norm', () => gradientNorm(gradients.values())) : 0;
    timed(cpuMs, 'optimizer', () => optimizer.apply(model.parameters, gradients, options.learningRate, clipping ? clipCoefficient(norm, clip) : 1));
    return clipping ? { loss, gradientNorm: norm } : { loss };
  } finally {
    words.table.dispose();
  }
}
