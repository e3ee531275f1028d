import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cosine, loadMiniLmReference, modelDir } from '@embedder-rag/test-fixtures';
import { batchTokenizer } from '@embedder-rag/testkit';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeOnnx } from './index';
import { calibrationSentences, embedBatch, openSession } from './test-helpers';

// all-MiniLM-L6-v2 quantised row-wise after smoothing calibrated on 300 STS-B dev sentences: every text of the
// reference file, alone, in one batch of all 230 and between very long and very short neighbours.
describe('row-wise q8 all-MiniLM-L6-v2', () => {
  const reference = loadMiniLmReference();
  const texts = reference.map((row) => row.text);
  let session: ort.InferenceSession;
  let tokenize: (texts: readonly string[]) => ReturnType<Awaited<ReturnType<typeof batchTokenizer>>>;
  let alone: Float32Array[];

  beforeAll(async () => {
    const dir = modelDir('all-MiniLM-L6-v2');
    tokenize = await batchTokenizer(dir, 256);
    const fp32 = readFileSync(join(dir, 'onnx/model.onnx'));
    const { bytes, report } = await quantizeOnnx(ort, fp32, {
      calibration: calibrationSentences(300).map((text) => tokenize([text])),
      calibrationSource: '300 STS-B dev sentences',
    });
    // The word-embedding table (30522 x 384) is stored as int8 rows: the file is about a quarter of the fp32 one.
    expect(report.embeddings).toBe(1);
    expect(bytes.length).toBeLessThan(fp32.length * 0.3);
    session = await openSession(bytes);
    alone = [];
    for (const text of texts) alone.push((await embedBatch(session, tokenize([text])))[0]!);
  }, 300_000);

  it('is close to the fp32 reference: mean cosine >= 0.998, min >= 0.98', () => {
    const cosines = alone.map((vector, index) => cosine(vector, reference[index]!.embedding));
    const mean = cosines.reduce((sum, value) => sum + value, 0) / cosines.length;
    console.info(`row-wise q8 vs fp32 reference: mean ${mean.toFixed(5)}, min ${Math.min(...cosines).toFixed(5)}`);
    expect(mean).toBeGreaterThanOrEqual(0.998);
    expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.98);
  });

  it('does not depend on the batch: alone vs one batch of 230 vs long and short neighbours', async () => {
    const together = await embedBatch(session, tokenize(texts));
    const longest = texts.reduce((a, b) => (b.length > a.length ? b : a));
    const mixed: Float32Array[] = [];
    for (const text of texts) mixed.push((await embedBatch(session, tokenize([longest, text, 'ok'])))[1]!);
    let bitwise = 0;
    let worst = 1;
    for (const [index, vector] of alone.entries()) {
      for (const other of [together[index]!, mixed[index]!]) {
        worst = Math.min(worst, cosine(vector, other));
        if (vector.every((value, d) => value === other[d])) bitwise += 1;
      }
    }
    console.info(`batch invariance: worst cosine ${worst.toFixed(8)}, ${bitwise} of ${2 * texts.length} comparisons bitwise identical`);
    expect(worst).toBeGreaterThanOrEqual(0.99999);
  }, 300_000);
});
