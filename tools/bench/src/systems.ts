import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { modelRoot } from '@embedder-rag/test-fixtures';

/** The settings a bench job asks of embedder. */
export interface EmbedderJobConfig {
  /** q8: row-wise int8 (batch-independent); q8-dynamic: the published per-tensor file. */
  dtype: 'fp32' | 'q8' | 'q8-dynamic';
  /** Apply a preset of EmbedderConfig on top of the defaults. */
  preset?: 'default' | 'high-performance' | 'low-memory' | 'constrained';
  /** For the constrained preset: optimizeForConstraints(maxMemoryMb, targetThroughput, maxLatencyMs). */
  constraints?: { maxMemoryMb?: number; targetThroughput?: number; maxLatencyMs?: number };
  /** Settings applied after the preset (for tuning sweeps). */
  overrides?: { batchSize?: number; maxBatchTokens?: number; threads?: number; memoryArena?: boolean };
}

/** One embedding system as the bench drives it. */
export interface BenchSystem {
  /** Vectors for texts, the way a user of this system would embed a corpus. */
  embed(texts: string[]): Promise<ArrayLike<number>[]>;
  /** Word pieces (specials included) after truncation at 256, summed. */
  countWordPieces(texts: string[]): number;
  /** What the system chose (dtype, budget, threads…). */
  describe(): Record<string, unknown>;
  dispose(): Promise<void>;
}

/** The model folder name under EMBEDDER_MODEL_PATH (or ../shared/models). */
export const MODEL = 'all-MiniLM-L6-v2';

/** embedder, built (dist): one embed() call per corpus, cache off so repeated passes compute. */
export async function openEmbedder(job: EmbedderJobConfig): Promise<BenchSystem> {
  const { EmbedderConfig } = await import('@embedder-rag/core');
  const { EmbeddingGenerator } = await import('@embedder-rag/embedder');
  let config = EmbedderConfig.create({ modelPath: modelRoot(), dtype: job.dtype });
  if (job.preset === 'high-performance') config = config.highPerformance();
  if (job.preset === 'low-memory') config = config.lowMemory();
  if (job.preset === 'constrained') {
    const c = job.constraints ?? {};
    config = config.optimizeForConstraints(c.maxMemoryMb, c.targetThroughput, c.maxLatencyMs);
  }
  if (job.overrides) config = EmbedderConfig.create({ ...config.settings, ...job.overrides });
  // The bench computes every text: the cache is off, whatever size the preset chose (reported as cacheSize).
  const presetCacheSize = config.settings.cacheSize;
  const generator = await EmbeddingGenerator.create(config.withCacheSize(0));
  return {
    embed: (texts) => generator.embed(texts),
    countWordPieces: (texts) => generator.countTokens(texts).reduce((sum, n) => sum + n, 0),
    describe: () => {
      const s = generator.settings;
      return {
        dtype: generator.model.dtype,
        batchSize: s.batchSize,
        maxBatchTokens: s.maxBatchTokens,
        threads: s.threads,
        replicas: s.replicas,
        memoryArena: s.memoryArena,
        cacheSize: presetCacheSize,
        tuning: generator.getStats().tuning,
      };
    },
    dispose: () => generator.dispose(),
  };
}

/**
 * @huggingface/transformers' feature-extraction pipeline on the same model files (local only), called with batches of
 * 32, mean pooling, normalize — the way its documentation embeds a corpus.
 */
export async function openTransformers(dtype: 'fp32' | 'q8'): Promise<BenchSystem> {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = modelRoot();
  const extractor = await pipeline('feature-extraction', MODEL, { dtype, device: 'cpu' });
  return {
    async embed(texts) {
      const vectors: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += 32) {
        const output = await extractor(texts.slice(i, i + 32), { pooling: 'mean', normalize: true });
        const data = output.data as Float32Array;
        const dimension = Number(output.dims[1]);
        for (let row = 0; row * dimension < data.length; row++) vectors.push(data.slice(row * dimension, (row + 1) * dimension));
      }
      return vectors;
    },
    countWordPieces: (texts) =>
      texts.reduce((sum, text) => sum + Math.min(256, (extractor.tokenizer.encode(text) as number[]).length), 0),
    describe: () => ({ dtype, batchSize: 32, maxLength: 512 }),
    dispose: () => extractor.dispose(),
  };
}

/**
 * onnxruntime-node alone, the runtime's ceiling on this machine: the same ONNX file fed length-sorted batches of 32
 * (no padding to speak of), all cores, graph optimisation 'all', onnxruntime's default thread spinning. Tokenising
 * (@embedder-rag/tokenizer) and mean pooling + L2 norm (@embedder-rag/core) are timed too, as in embedder; the scheduler and
 * the backend are not used. This is the "onnxruntime (Python), length-sorted" peer in Node: what no amount of
 * scheduling around this runtime beats.
 */
export async function openOnnxRuntime(dtype: 'fp32' | 'q8'): Promise<BenchSystem> {
  const ort = await import('onnxruntime-node');
  const { l2NormalizeRows, poolHiddenStates } = await import('@embedder-rag/core');
  const { loadTokenizer } = await import('@embedder-rag/tokenizer');
  const dir = join(modelRoot(), MODEL);
  const tokenizer = await loadTokenizer(dir, { maxSeqLength: 256 });
  const threads = availableParallelism();
  const session = await ort.InferenceSession.create(join(dir, 'onnx', dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx'), {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
  });

  async function embedBatch(encodings: Parameters<typeof tokenizer.collate>[0]): Promise<Float32Array> {
    const batch = tokenizer.collate(encodings);
    const dims = [batch.batchSize, batch.sequenceLength];
    const output = await session.run({
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
      token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, dims),
    });
    const hidden = output['last_hidden_state']!;
    const hiddenSize = Number(hidden.dims[2]);
    const shape = { batchSize: batch.batchSize, sequenceLength: batch.sequenceLength, hiddenSize };
    return l2NormalizeRows(poolHiddenStates(hidden.data as Float32Array, batch.attentionMask, shape, 'mean'), hiddenSize);
  }

  return {
    async embed(texts) {
      const encoded = texts.map((text, index) => ({ index, encoding: tokenizer.encode(text) }));
      encoded.sort((a, b) => a.encoding.ids.length - b.encoding.ids.length);
      const vectors: Float32Array[] = new Array(texts.length);
      for (let i = 0; i < encoded.length; i += 32) {
        const batch = encoded.slice(i, i + 32);
        const pooled = await embedBatch(batch.map((entry) => entry.encoding));
        const width = pooled.length / batch.length;
        batch.forEach((entry, k) => (vectors[entry.index] = pooled.subarray(k * width, (k + 1) * width)));
      }
      return vectors;
    },
    countWordPieces: (texts) => texts.reduce((sum, text) => sum + tokenizer.encode(text).ids.length, 0),
    describe: () => ({ dtype, batchSize: 32, threads, sorted: true }),
    dispose: () => session.release(),
  };
}
