import { cosine, loadMiniLmReference } from '@embedder-rag/test-fixtures';
import { describe, expect, it } from 'vitest';
import { openOnnxRuntime } from './systems';

// The runtime-alone system is a yardstick in the throughput table: its speed only means something if its vectors are
// the model's. It sorts texts by length, so the order it returns them in is checked too.
describe('onnxruntime-alone bench system', () => {
  it('returns the reference vectors in input order (fp32)', async () => {
    const reference = loadMiniLmReference();
    const system = await openOnnxRuntime('fp32');
    try {
      const vectors = await system.embed(reference.map((row) => row.text));
      expect(vectors).toHaveLength(reference.length);
      const worst = Math.min(...reference.map((row, i) => cosine(vectors[i]!, row.embedding)));
      expect(worst).toBeGreaterThanOrEqual(0.99999);
      expect(system.countWordPieces(['hello world'])).toBe(4);
    } finally {
      await system.dispose();
    }
  }, 60_000);
});
