import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosine, modelDir } from '@embedder-rag/test-fixtures';
import { batchTokenizer, loadTestModel } from '@embedder-rag/testkit';
import { onnxBackend } from './index';

// dtype q8 on a folder with no row-wise file: the backend makes one from the fp32 file into the cache, once.
describe('onnx backend, dtype q8 (row-wise)', () => {
  const cache = mkdtempSync(join(tmpdir(), 'embedder-rowwise-'));
  const previous = process.env.EMBEDDER_QUANTIZE_CACHE;
  process.env.EMBEDDER_QUANTIZE_CACHE = cache;
  afterAll(() => {
    if (previous === undefined) delete process.env.EMBEDDER_QUANTIZE_CACHE;
    else process.env.EMBEDDER_QUANTIZE_CACHE = previous;
    rmSync(cache, { recursive: true, force: true });
  });

  it('makes the row-wise file in the cache on first use, reuses it after, and a text gives the same vector in any batch', async () => {
    const dir = modelDir('test-fixtures/tiny-bert');
    const backend = await onnxBackend().create();
    const model = await loadTestModel(dir);
    const tokenize = await batchTokenizer(dir, model.maxSeqLength);
    const first = await backend.createSession(model, { dtype: 'q8', device: 'cpu', tokenize });
    expect(first.info.modelFile.startsWith(cache)).toBe(true);
    expect(first.info.modelFile).toMatch(/model_q8_rowwise\.onnx$/);
    const written = statSync(first.info.modelFile).mtimeMs;
    const texts = ['a short text', 'a much longer text with many more words than the first one has in it', 'x'];
    const together = await first.run(tokenize(texts));
    for (const [index, text] of texts.entries()) {
      const alone = await first.run(tokenize([text]));
      const row = together.subarray(index * first.dimension, (index + 1) * first.dimension);
      expect(cosine(alone, row)).toBeGreaterThanOrEqual(0.99999);
    }
    await first.dispose();

    const second = await backend.createSession(model, { dtype: 'q8', device: 'cpu', tokenize });
    expect(second.info.modelFile).toBe(first.info.modelFile);
    expect(statSync(second.info.modelFile).mtimeMs).toBe(written);
    await second.dispose();
  });
});
