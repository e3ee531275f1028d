import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedderConfig } from '@embedder-rag/core';
import { EmbeddingGenerator } from '@embedder-rag/embedder';
import { modelRoot, sharedFile } from '@embedder-rag/test-fixtures';
import { evaluateSts } from './evaluate';
import { PUBLISHED_STSB_SPEARMAN } from './published';
import { loadStsb } from './stsb';

const published = PUBLISHED_STSB_SPEARMAN['all-MiniLM-L6-v2']!;

describe('STS-B test with embedder', () => {
  const pairs = loadStsb(sharedFile('data/stsb/sts-test.csv'));
  let fp32: EmbeddingGenerator;
  beforeAll(async () => {
    fp32 = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0));
  });
  afterAll(() => fp32.dispose());

  it('reproduces the published Spearman within 0.002 in fp32', async () => {
    const result = await evaluateSts(pairs, (texts) => fp32.embed(texts));
    console.log(`[stsb] fp32 Spearman ${result.spearman.toFixed(5)} (published ${published.toFixed(5)})`);
    expect(result.pairs).toBe(1379);
    expect(Math.abs(result.spearman - published)).toBeLessThanOrEqual(0.002);
  });

  it('stays at or above 0.815 in q8', async () => {
    const q8 = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0).withDtype('q8'));
    try {
      const result = await evaluateSts(pairs, (texts) => q8.embed(texts));
      console.log(`[stsb] q8 Spearman ${result.spearman.toFixed(5)}`);
      expect(result.spearman).toBeGreaterThanOrEqual(0.815);
    } finally {
      await q8.dispose();
    }
  });
});
