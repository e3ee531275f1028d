import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { loadTinyBertReference, modelDir } from '@embedder-rag/test-fixtures';
import { batchFromIds, loadTestModel } from '@embedder-rag/testkit';
import { expect, it } from 'vitest';
import { TfjsBackend } from './backend';

// A real collection before each reading, so garbage awaiting GC is not mistaken for growth.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('keeps tensor count and RSS flat over 1,000 batches (tensors are freed per batch)', { timeout: 300_000 }, async () => {
  const backend = new TfjsBackend();
  await backend.init();
  const session = await backend.createSession(await loadTestModel(modelDir('test-fixtures/tiny-bert')), { dtype: 'fp32', device: 'cpu' });
  const reference = loadTinyBertReference();
  const batches = reference.map((r, i) => batchFromIds([r.input_ids, reference[(i + 1) % reference.length]!.input_ids]));
  const runBatches = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await session.run(batches[i % batches.length]!);
  };
  // Warm up to the working size: measured here, V8 grows its heap reservation once (heapTotal 70 → 101 MB, with
  // heapUsed flat at 34.5 MB) around batch 1,250; from batch ~1,750 RSS stays within 2 MB over the next 4,000.
  await runBatches(2000);
  gc();
  const tensorsBefore = tf.memory().numTensors;
  const bytesBefore = tf.memory().numBytes;
  const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
  await runBatches(1000);
  gc();
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(tf.memory().numBytes).toBe(bytesBefore);
  // A leak of even one small tensor per batch would show: each hidden-state output alone is ~2 KB × 1,000.
  expect(rssGrowthMb).toBeLessThan(8);
  expect(heapGrowthMb).toBeLessThan(2);
  console.log(`tfjs 1,000 batches: ${tensorsBefore} tensors before and after, RSS growth ${rssGrowthMb.toFixed(2)} MB, V8 heap growth ${heapGrowthMb.toFixed(2)} MB`);
  await session.dispose();
});
