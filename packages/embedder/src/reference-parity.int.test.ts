import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedderConfig } from '@embedder-rag/core';
import { cosine, loadMiniLmReference, loadTinyBertReference, maxAbsDiff, modelDir, modelRoot } from '@embedder-rag/test-fixtures';
import { EmbeddingGenerator } from './index';

const reference = loadMiniLmReference();

describe('all-MiniLM-L6-v2 fp32 against sentence-transformers', () => {
  let generator: EmbeddingGenerator;
  beforeAll(async () => {
    generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0));
  });
  afterAll(() => generator.dispose());

  it('has cosine >= 0.99999 and the reference token count for every text in one batch of all 230', async () => {
    const result = await generator.embedWithDetails(reference.map((row) => row.text));
    const cosines = reference.map((row, i) => cosine(result.embeddings[i]!, row.embedding));
    const minimum = Math.min(...cosines);
    console.info(`[parity] fp32 one batch of ${reference.length}: min cosine ${minimum.toFixed(12)}`);
    expect(minimum).toBeGreaterThanOrEqual(0.99999);
    expect(result.tokenCounts).toEqual(reference.map((row) => row.tokens));
    expect(result.truncated).toEqual(reference.map((row) => row.truncated));
  });

  it('has cosine >= 0.99999 for every text when all 230 are padded into one single batch', async () => {
    const single = await EmbeddingGenerator.create(
      new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0).withBatchSize(256).withMaxBatchTokens(65_536).withMaxPaddingRatio(1000).withBatchOverheadTokens(1_000_000).withReplicas(1),
    );
    try {
      const batches: number[] = [];
      single.onBatch((event) => batches.push(event.size));
      const vectors = await single.embed(reference.map((row) => row.text));
      expect(batches).toEqual([230]);
      const minimum = Math.min(...reference.map((row, i) => cosine(vectors[i]!, row.embedding)));
      console.info(`[parity] fp32 one padded batch of 230x256: min cosine ${minimum.toFixed(12)}`);
      expect(minimum).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await single.dispose();
    }
  });

  it('has cosine >= 0.99999 for every text embedded alone', async () => {
    let minimum = 1;
    for (const row of reference) {
      const [vector] = await generator.embed([row.text]);
      minimum = Math.min(minimum, cosine(vector!, row.embedding));
    }
    console.info(`[parity] fp32 alone: min cosine ${minimum.toFixed(12)}`);
    expect(minimum).toBeGreaterThanOrEqual(0.99999);
  });

  it('returns unit vectors of dimension 384 and reports the model', async () => {
    const [vector] = await generator.embed(['hello world']);
    expect(vector).toBeInstanceOf(Float32Array);
    expect(vector).toHaveLength(384);
    expect(Math.hypot(...vector!)).toBeCloseTo(1, 5);
    expect(generator.model).toMatchObject({ dimension: 384, maxSeqLength: 256, pooling: 'mean', dtype: 'fp32', backend: 'onnx' });
  });
});

describe('all-MiniLM-L6-v2 q8 (row-wise, made on first use with the built-in calibration sentences)', () => {
  it('is close to the fp32 reference (mean >= 0.998, min >= 0.98) and the same alone as in the batch', async () => {
    const generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withDtype('q8').withCacheSize(0));
    try {
      const vectors = await generator.embed(reference.map((row) => row.text));
      const cosines = reference.map((row, i) => cosine(vectors[i]!, row.embedding));
      const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
      const minimum = Math.min(...cosines);
      console.info(`[parity] q8 row-wise one batch: mean cosine ${mean.toFixed(5)}, min ${minimum.toFixed(5)}`);
      expect(mean).toBeGreaterThanOrEqual(0.998);
      expect(minimum).toBeGreaterThanOrEqual(0.98);
      expect(generator.getStats().dtype).toBe('q8');
      let bitwise = 0;
      for (const [i, row] of reference.entries()) {
        const [alone] = await generator.embed([row.text]);
        expect(cosine(alone!, vectors[i]!)).toBeGreaterThanOrEqual(0.99999);
        if (alone!.every((value, d) => value === vectors[i]![d])) bitwise += 1;
      }
      console.info(`[parity] q8 row-wise alone vs in the batch: ${bitwise} of ${reference.length} bitwise identical`);
    } finally {
      await generator.dispose();
    }
  }, 300_000);
});

describe('all-MiniLM-L6-v2 q8-dynamic (the published per-tensor file)', () => {
  it('stays close to the fp32 reference (mean >= 0.985, min >= 0.93)', async () => {
    const generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withDtype('q8-dynamic').withCacheSize(0));
    try {
      const vectors = await generator.embed(reference.map((row) => row.text));
      const cosines = reference.map((row, i) => cosine(vectors[i]!, row.embedding));
      const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
      const minimum = Math.min(...cosines);
      console.info(`[parity] q8 one batch: mean cosine ${mean.toFixed(5)}, min ${minimum.toFixed(5)}`);
      expect(mean).toBeGreaterThanOrEqual(0.985);
      expect(minimum).toBeGreaterThanOrEqual(0.93);
      expect(generator.getStats().dtype).toBe('q8-dynamic');
    } finally {
      await generator.dispose();
    }
  });
});

describe('tiny-bert fixture', () => {
  const temp = mkdtempSync(join(tmpdir(), 'embedder-tiny-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  /** A copy of the tiny-bert folder (files linked) whose 1_Pooling/config.json asks for `pooling`. */
  function tinyBertWith(pooling: 'mean' | 'cls' | 'max'): string {
    const source = modelDir('test-fixtures/tiny-bert');
    const dir = join(temp, pooling);
    mkdirSync(join(dir, '1_Pooling'), { recursive: true });
    for (const entry of readdirSync(source)) if (entry !== '1_Pooling') symlinkSync(join(source, entry), join(dir, entry));
    const config = { word_embedding_dimension: 16, pooling_mode_cls_token: pooling === 'cls', pooling_mode_mean_tokens: pooling === 'mean', pooling_mode_max_tokens: pooling === 'max' };
    writeFileSync(join(dir, '1_Pooling/config.json'), JSON.stringify(config));
    return dir;
  }

  it.each(['mean', 'cls', 'max'] as const)('matches the %s pooling reference within 1e-5, alone and batched', async (pooling) => {
    const generator = await EmbeddingGenerator.create({ model: tinyBertWith(pooling), cacheSize: 0 });
    try {
      expect(generator.model.pooling).toBe(pooling);
      const rows = loadTinyBertReference();
      const batched = await generator.embed(rows.map((row) => row.text));
      for (const [i, row] of rows.entries()) {
        expect(maxAbsDiff(batched[i]!, row[pooling])).toBeLessThan(1e-5);
        const [alone] = await generator.embed([row.text]);
        expect(maxAbsDiff(alone!, row[pooling])).toBeLessThan(1e-5);
      }
    } finally {
      await generator.dispose();
    }
  });
});
