import { l2NormalizeRows, type BackendSession, type ModelSpec } from '@embedder-rag/core';
import { loadTokenizer } from '@embedder-rag/tokenizer';

/** Normalised vectors of texts, in input order, and how long the slowest batch took. */
export interface EmbedTextsResult {
  vectors: Float32Array[];
  /** Wall time per batch, ms. */
  batchMs: number[];
}

/**
 * Tokenises texts with the model's own tokenizer (@embedder-rag/tokenizer, truncated at maxSeqLength), runs them through
 * a session in batches of texts of similar length (sorted, so padding stays small) and L2-normalises the pooled
 * output — the facade's path, for tests and benchmarks that drive a backend directly.
 */
export async function embedTexts(session: BackendSession, model: ModelSpec, texts: readonly string[], batchSize = 16): Promise<EmbedTextsResult> {
  const tokenizer = await loadTokenizer(model.dir, { maxSeqLength: model.maxSeqLength });
  const order = texts.map((text, index) => ({ text, index })).sort((a, b) => a.text.length - b.text.length);
  const vectors: Float32Array[] = new Array<Float32Array>(texts.length);
  const batchMs: number[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const group = order.slice(start, start + batchSize);
    const { batch } = tokenizer.encodeBatch(group.map((item) => item.text));
    const began = performance.now();
    const pooled = await session.run(batch);
    batchMs.push(performance.now() - began);
    l2NormalizeRows(pooled, session.dimension);
    group.forEach((item, b) => {
      vectors[item.index] = pooled.slice(b * session.dimension, (b + 1) * session.dimension);
    });
  }
  return { vectors, batchMs };
}
