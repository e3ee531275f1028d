import type { TokenizedBatch } from '@embedder-rag/core';
import { loadTokenizer } from '@embedder-rag/tokenizer';

/**
 * A tokeniser for a model folder (@embedder-rag/tokenizer, truncated at maxSeqLength): texts -> one padded batch,
 * for tests and tools that run an ONNX file themselves (calibration, quantised-model checks).
 */
export async function batchTokenizer(dir: string, maxSeqLength = 256): Promise<(texts: readonly string[]) => TokenizedBatch> {
  const tokenizer = await loadTokenizer(dir, { maxSeqLength });
  return (texts) => tokenizer.encodeBatch([...texts]).batch;
}
