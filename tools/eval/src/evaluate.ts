import { cosineSimilarity, pearson, spearman } from './statistics';
import type { StsPair } from './stsb';

/** Any embedding function: texts in, one vector per text out, in order. */
export type EmbedFunction = (texts: string[]) => Promise<ArrayLike<number>[]>;

/** What {@link evaluateSts} measures. */
export interface StsResult {
  /** Spearman correlation of cosine similarity with the gold scores (the MTEB main score). */
  spearman: number;
  pearson: number;
  pairs: number;
  /** Wall time of the embedding, in s. */
  seconds: number;
}

/**
 * Embeds every distinct sentence once (in one call, so the embedder batches as it likes), scores each pair by cosine
 * and correlates with the gold scores.
 */
export async function evaluateSts(pairs: readonly StsPair[], embed: EmbedFunction): Promise<StsResult> {
  const index = new Map<string, number>();
  for (const pair of pairs) {
    if (!index.has(pair.sentence1)) index.set(pair.sentence1, index.size);
    if (!index.has(pair.sentence2)) index.set(pair.sentence2, index.size);
  }
  const started = performance.now();
  const vectors = await embed([...index.keys()]);
  const seconds = (performance.now() - started) / 1000;
  const vector = (text: string): ArrayLike<number> => vectors[index.get(text) ?? -1] ?? [];
  const predicted = pairs.map((pair) => cosineSimilarity(vector(pair.sentence1), vector(pair.sentence2)));
  const gold = pairs.map((pair) => pair.score);
  return { spearman: spearman(predicted, gold), pearson: pearson(predicted, gold), pairs: pairs.length, seconds };
}
