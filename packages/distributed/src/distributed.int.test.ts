import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingGenerator } from '@embedder-rag/embedder';
import { cosine, freePort, loadFamilyReference, maxAbsDiff, modelDir, modelRoot, readJsonl, sharedFile, startRedis, type TestRedis } from '@embedder-rag/test-fixtures';
import { cleanQueue, parseQueueUrl, queueStatus, runDistributed, runDistributedStream, startWorker, type EmbeddingWorker } from './index';

// Real Redis, the real model, a worker and a producer in this process (the CLI tests run them as processes).
let redis: TestRedis;
let fp32: EmbeddingGenerator;
const texts = readJsonl<{ text: string }>(sharedFile('data/bench/mixed.jsonl'))
  .slice(0, 40)
  .map((row) => row.text);

beforeAll(async () => {
  redis = await startRedis();
  fp32 = await EmbeddingGenerator.create({ model: 'all-MiniLM-L6-v2', modelPath: modelRoot(), dtype: 'fp32', threads: 1, cacheSize: 0 });
});
afterAll(async () => {
  await fp32?.dispose();
  await redis?.stop();
});

async function collect(queueName: string, input: string[]) {
  const output = new Map<number, Float32Array>();
  const result = await runDistributed({
    address: parseQueueUrl(redis.url),
    queueName,
    engine: fp32,
    texts: input,
    budget: { maxTokens: 1024 },
    pollMs: 50,
    write: (index, vector) => {
      expect(output.has(index)).toBe(false);
      output.set(index, vector);
    },
  });
  return { result, output };
}

describe('distributed mode on a real Redis', () => {
  it('embeds every text once, equal to the local vectors; a rerun embeds nothing and writes the same', async () => {
    const input = [...texts, texts[3]!];
    const worker = await startWorker({ address: parseQueueUrl(redis.url), queueName: 'happy', engine: fp32 });
    try {
      const { result, output } = await collect('happy', input);
      expect(result.failed).toEqual([]);
      expect(result.uniqueChunks).toBe(texts.length);
      expect(result.jobsPlanned).toBeGreaterThan(1);
      expect(output.size).toBe(input.length);
      const local = await fp32.embed(input);
      input.forEach((_, i) => expect(cosine(output.get(i)!, local[i]!)).toBeGreaterThanOrEqual(0.999999));
      let status = await queueStatus({ address: parseQueueUrl(redis.url), queueName: 'happy' });
      expect(status.counters.chunksEmbedded).toBe(texts.length);
      expect(status.results).toBe(texts.length);
      expect(status.model?.dtype).toBe('fp32');

      const again = await collect('happy', input);
      expect(again.result.jobsSubmitted).toBe(0);
      expect(again.result.chunksAlreadyDone).toBe(texts.length);
      input.forEach((_, i) => expect(again.output.get(i)).toEqual(output.get(i)));
      status = await queueStatus({ address: parseQueueUrl(redis.url), queueName: 'happy' });
      expect(status.counters.chunksEmbedded).toBe(texts.length);
      expect(status.jobs).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    } finally {
      await worker.close();
    }
  });

  it('streams the input in segments: the output of a single run, in order, each line once, repeats not re-embedded', async () => {
    // Batches of one make every vector independent of how the chunks were grouped into jobs, so the two runs must
    // agree bitwise.
    const perText = await EmbeddingGenerator.create({ model: 'all-MiniLM-L6-v2', modelPath: modelRoot(), dtype: 'fp32', threads: 1, batchSize: 1, cacheSize: 0 });
    const input = [...texts.slice(0, 20), texts[2]!, texts[15]!, ...texts.slice(20, 30), texts[0]!, texts[29]!];
    const address = parseQueueUrl(redis.url);
    const workers = await Promise.all(['whole', 'segments'].map((queueName) => startWorker({ address, queueName, engine: perText })));
    try {
      const whole = new Map<number, Float32Array>();
      await runDistributed({ address, queueName: 'whole', engine: perText, texts: input, budget: { maxTokens: 1024 }, pollMs: 50, write: (index, vector) => void whole.set(index, vector) });
      expect(whole.size).toBe(input.length);

      const streamed: Float32Array[] = [];
      let largestSegment = 0;
      async function* lines(): AsyncGenerator<{ text: string }> {
        for (const text of input) yield { text };
      }
      const result = await runDistributedStream({
        address,
        queueName: 'segments',
        engine: perText,
        items: lines(),
        textOf: (item) => item.text,
        segmentSize: 7,
        budget: { maxTokens: 1024 },
        pollMs: 50,
        onProgress: ({ segmentLength }) => void (largestSegment = Math.max(largestSegment, segmentLength)),
        write: (index, vector, item) => {
          expect(index).toBe(streamed.length);
          expect(item.text).toBe(input[index]);
          streamed.push(vector);
        },
      });
      expect(largestSegment).toBe(7);
      expect(result).toMatchObject({ chunks: input.length, written: input.length, failed: [] });
      expect(streamed).toHaveLength(input.length);
      streamed.forEach((vector, i) => expect(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).equals(Buffer.from(whole.get(i)!.buffer, whole.get(i)!.byteOffset, whole.get(i)!.byteLength)), `line ${i}`).toBe(true));
      // A text repeated in a later segment came from the sink: each distinct text was embedded once.
      const status = await queueStatus({ address, queueName: 'segments' });
      expect(status.counters.chunksEmbedded).toBe(new Set(input).size);
      // Segments of 7: texts[2] (position 20), texts[15] (21) and texts[0] (32) repeat an earlier segment's text;
      // texts[29] (33) repeats one of its own segment (31), which the plan merges.
      expect(result.chunksAlreadyDone).toBe(3);
      expect(result.uniqueChunks).toBe(new Set(input).size + 3);
    } finally {
      await Promise.all(workers.map(async (worker) => worker.close()));
      await perText.dispose();
    }
  });

  it("carries the producer's prompt to the workers: prompted vectors equal sentence-transformers'; plain ones are other chunks", async () => {
    // tiny-xlm-roberta defines query:/passage: prompts; its reference has sentence-transformers' vectors with prompt_name query.
    const xlmr = await EmbeddingGenerator.create({ model: modelDir('test-fixtures/tiny-xlm-roberta'), threads: 1, cacheSize: 0 });
    const rows = loadFamilyReference('tiny-xlm-roberta').filter((row) => row.prompt_name === 'query');
    const input = rows.map((row) => row.text);
    const address = parseQueueUrl(redis.url);
    const worker = await startWorker({ address, queueName: 'prompts', engine: xlmr });
    try {
      const run = async (prompt: string) => {
        const output = new Map<number, Float32Array>();
        const result = await runDistributed({ address, queueName: 'prompts', engine: xlmr, texts: input, prompt, pollMs: 50, write: (index, vector) => void output.set(index, vector) });
        return { result, vectors: input.map((_, i) => output.get(i)!) };
      };
      const query = xlmr.resolvePrompt({ promptName: 'query' });
      expect(query).toBe('query: ');
      const prompted = await run(query);
      expect(prompted.result.failed).toEqual([]);
      const worst = Math.max(...rows.map((row, i) => maxAbsDiff(prompted.vectors[i]!, row.embedding)));
      expect(worst).toBeLessThanOrEqual(1e-5);
      // The same texts without the prompt are other chunks (the key covers the prompt): embedded anew, not read back.
      const plain = await run('');
      expect(plain.result.chunksAlreadyDone).toBe(0);
      const local = await xlmr.embed(input);
      input.forEach((_, i) => expect(maxAbsDiff(plain.vectors[i]!, local[i]!)).toBeLessThanOrEqual(1e-6));
      input.forEach((_, i) => expect(maxAbsDiff(plain.vectors[i]!, prompted.vectors[i]!)).toBeGreaterThan(1e-3));
      const status = await queueStatus({ address, queueName: 'prompts' });
      expect(status.counters.chunksEmbedded).toBe(2 * input.length);
      console.info(`distributed --prompt-name query: worst max abs diff vs sentence-transformers ${worst.toExponential(2)} over ${rows.length} rows`);
    } finally {
      await worker.close();
      await xlmr.dispose();
    }
  });

  it('a poisoned chunk fails alone, in the failed set with its error; the rest completes', async () => {
    // The empty text passes no input reader of the CLI; a producer of another program could still queue it.
    const input = [texts[0]!, texts[1]!, '', texts[2]!];
    const worker = await startWorker({ address: parseQueueUrl(redis.url), queueName: 'poison', engine: fp32, retry: { attempts: 2, backoffMs: 10 } });
    try {
      const output = new Map<number, Float32Array>();
      const run = () =>
        runDistributed({
          address: parseQueueUrl(redis.url),
          queueName: 'poison',
          engine: fp32,
          texts: input,
          retry: { attempts: 2, backoffMs: 10 },
          pollMs: 50,
          write: (index, vector) => void output.set(index, vector),
        });
      const result = await run();
      expect(result.failed).toHaveLength(1);
      expect(result.failed[0]!.indexes).toEqual([2]);
      expect(result.failed[0]!.error).toMatch(/^INVALID_INPUT: /);
      expect([...output.keys()].sort()).toEqual([0, 1, 3]);
      const status = await queueStatus({ address: parseQueueUrl(redis.url), queueName: 'poison' });
      expect(status.jobs.failed).toBe(1);
      expect(status.failures[0]).toMatchObject({ chunks: 1, attempts: 2 });
      expect(status.failures[0]!.error).toMatch(/empty/);
      // A rerun retries the failed chunk (it fails again, alone) and embeds nothing else.
      const rerun = await run();
      expect(rerun.failed.map((chunk) => chunk.indexes)).toEqual([[2]]);
      expect((await queueStatus({ address: parseQueueUrl(redis.url), queueName: 'poison' })).counters.chunksEmbedded).toBe(3);
    } finally {
      await worker.close();
    }
  });

  it('refuses a worker or a producer of another dtype on a queue recorded for fp32 (MODEL_MISMATCH)', async () => {
    const q8 = await EmbeddingGenerator.create({ model: 'all-MiniLM-L6-v2', modelPath: modelRoot(), dtype: 'q8', threads: 1, cacheSize: 0 });
    try {
      const address = parseQueueUrl(redis.url);
      await expect(startWorker({ address, queueName: 'happy', engine: q8 })).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringMatching(/fp32.*q8/) });
      await expect(runDistributed({ address, queueName: 'happy', engine: q8, texts: ['a'], write: () => {} })).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
      // After `queue clean` the queue takes the other model.
      await cleanQueue({ address, queueName: 'happy' });
      const worker: EmbeddingWorker = await startWorker({ address, queueName: 'happy', engine: q8 });
      await worker.close();
    } finally {
      await q8.dispose();
    }
  });

  it('an unreachable or malformed queue URL is a typed error, not a hang', async () => {
    const closed = await freePort();
    await expect(queueStatus({ address: parseQueueUrl(`redis://127.0.0.1:${closed}`), connectTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    await expect(startWorker({ address: parseQueueUrl(`redis://127.0.0.1:${closed}`), engine: fp32, connectTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    for (const bad of ['127.0.0.1:6379', 'http://127.0.0.1:6379', 'redis://', 'redis://127.0.0.1:6379/x']) {
      expect(() => parseQueueUrl(bad)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    }
  });
});
