import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedderConfig, isEmbedderError } from '@embedder-rag/core';
import { cosine, loadMiniLmReference, modelRoot } from '@embedder-rag/test-fixtures';
import { EmbeddingGenerator } from './index';
import type { BatchEvent } from './types';

const texts = loadMiniLmReference().map((row) => row.text);

describe('EmbeddingGenerator batching (@embedder-rag/batch)', () => {
  let generator: EmbeddingGenerator;
  const events: BatchEvent[] = [];
  beforeAll(async () => {
    // Length cutting off: these tests are about merging calls and the budget.
    // One replica: with two, a small call is shared between them rather than merged into one batch.
    generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0).withMaxPaddingRatio(1000).withBatchOverheadTokens(1_000_000).withReplicas(1), { maxQueueInputs: 40 });
    generator.onBatch((event) => events.push(event));
  });
  afterAll(() => generator.dispose());

  it('merges concurrent embed() calls into one batch and returns each call its own vectors in order', async () => {
    const a = texts.slice(0, 3);
    const b = texts.slice(3, 5);
    const alone = [...(await generator.embed(a)), ...(await generator.embed(b))];
    events.length = 0;
    const [va, vb] = await Promise.all([generator.embed(a), generator.embed(b)]);
    expect(events.map((e) => e.size)).toEqual([5]);
    expect(va).toHaveLength(3);
    expect(vb).toHaveLength(2);
    [...va, ...vb].forEach((vector, i) => expect(cosine(vector, alone[i]!)).toBeGreaterThan(0.99999));
  });

  it('keeps every batch within the token budget and batch size', async () => {
    events.length = 0;
    await generator.embed(texts.slice(0, 40));
    for (const event of events) {
      expect(event.size).toBeLessThanOrEqual(generator.settings.batchSize);
      if (event.size > 1) expect(event.paddedTokens).toBeLessThanOrEqual(generator.settings.maxBatchTokens);
    }
    expect(events.reduce((sum, e) => sum + e.size, 0)).toBe(40);
  });

  it('fails at once with OVERLOADED when maxQueueInputs would be exceeded, and runs the rest', async () => {
    const first = generator.embed(texts.slice(0, 30));
    const refused = generator.embed(texts.slice(30, 45));
    await expect(refused).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'OVERLOADED'));
    await expect(first).resolves.toHaveLength(30);
  });

  it('drops the queued texts of an aborted call', async () => {
    events.length = 0;
    const controller = new AbortController();
    const kept = generator.embed(texts.slice(0, 10));
    const aborted = generator.embed(texts.slice(10, 30), { signal: controller.signal });
    controller.abort(new Error('client disconnected'));
    await expect(aborted).rejects.toThrow('client disconnected');
    await expect(kept).resolves.toHaveLength(10);
    expect(events.reduce((sum, e) => sum + e.size, 0)).toBe(10);
  });
});

describe('EmbeddingGenerator with model replicas', () => {
  it('gives the reference vectors with two replicas sharing the cores, and shares a small call between them', async () => {
    const reference = loadMiniLmReference();
    const generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0).withThreads(2).withReplicas(2));
    try {
      expect(generator.getStats().tuning).toMatchObject({ replicas: 2, threads: 2 });
      const events: BatchEvent[] = [];
      generator.onBatch((event) => events.push(event));
      const vectors = await generator.embed(reference.map((row) => row.text));
      reference.forEach((row, i) => expect(cosine(vectors[i]!, row.embedding)).toBeGreaterThanOrEqual(0.99999));
      events.length = 0;
      // Eight texts of one length: one batch would leave a replica idle, so each takes four.
      await generator.embed(new Array<string>(8).fill(reference[0]!.text));
      expect(events.map((e) => e.size)).toEqual([4, 4]);
    } finally {
      await generator.dispose();
    }
  });
});

describe('optimizeForConstraints calibration', () => {
  it('measures dtypes and budgets at create() and reports its choice in getStats().tuning', async () => {
    const config = new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0).optimizeForConstraints(2048, 50, 5000);
    const generator = await EmbeddingGenerator.create(config);
    try {
      const tuning = generator.getStats().tuning as {
        calibration: { chosen: { dtype: string; maxBatchTokens: number; threads: number }; measured: { dtype: string }[]; met: Record<string, boolean> };
      };
      const { chosen, measured } = tuning.calibration;
      expect(new Set(measured.map((m) => m.dtype))).toEqual(new Set(['fp32', 'q8']));
      expect(generator.settings.dtype).toBe(chosen.dtype);
      expect(generator.model.dtype).toBe(chosen.dtype);
      expect(generator.settings.maxBatchTokens).toBe(chosen.maxBatchTokens);
      expect(generator.settings.threads).toBe(chosen.threads);
      expect(generator.settings.replicas).toBe(1);
      expect(generator.getStats().preset).toBe('constrained');
      const [vector] = await generator.embed([texts[0]!]);
      expect(vector).toHaveLength(384);
    } finally {
      await generator.dispose();
    }
  });
});
