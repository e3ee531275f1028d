import { cosineSimilarity } from '@embedder-rag/similarity';
import type { TextPair } from './pairs';
import type { TrainableBert } from './trainable-bert';

/** An evaluation figure: Spearman's rank correlation of cos(u, v) with the scores, or recall@1 of anchor → positive. */
export interface Evaluation {
  metric: 'spearman' | 'recall@1';
  value: number;
  pairs: number;
}

/** Ranks 1..n, ties given their mean rank. */
function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + end + 1) / 2;
    for (let k = start; k < end; k++) out[order[k]!] = rank;
    start = end;
  }
  return out;
}

/** Spearman's rank correlation (Pearson of the ranks, ties averaged), as scipy.stats.spearmanr. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const mean = (n + 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < n; i++) {
    covariance += (ra[i]! - mean) * (rb[i]! - mean);
    varianceA += (ra[i]! - mean) ** 2;
    varianceB += (rb[i]! - mean) ** 2;
  }
  return covariance / Math.sqrt(varianceA * varianceB);
}

/**
 * Evaluates the model (eval mode) on pairs: Spearman when every pair has a score (sentence-transformers'
 * EmbeddingSimilarityEvaluator, cosine), else recall@1 of each first text retrieving its own second text among all
 * second texts.
 */
export async function evaluatePairs(model: TrainableBert, pairs: readonly TextPair[], batchSize = 64): Promise<Evaluation> {
  const first = await model.embedTexts(pairs.map((pair) => pair.sentence1), batchSize);
  const second = await model.embedTexts(pairs.map((pair) => pair.sentence2), batchSize);
  if (pairs.every((pair) => pair.score !== undefined)) {
    const similarities = first.map((u, i) => cosineSimilarity(u, second[i]!));
    return { metric: 'spearman', value: spearman(similarities, pairs.map((pair) => pair.score!)), pairs: pairs.length };
  }
  let hits = 0;
  for (let i = 0; i < first.length; i++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let j = 0; j < second.length; j++) {
      const score = cosineSimilarity(first[i]!, second[j]!);
      if (score > bestScore) {
        bestScore = score;
        best = j;
      }
    }
    if (best === i) hits++;
  }
  return { metric: 'recall@1', value: hits / pairs.length, pairs: pairs.length };
}
