import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Dtype } from '@embedder-rag/core';
import { cosineSimilarity } from '@embedder-rag/similarity';
import { modelRoot, sharedFile } from '@embedder-rag/test-fixtures';
import { loadCorpus } from '../corpora';
import { percentile } from '../measure';
import { isQuick } from '../options';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * The tfjs backend beside onnx on the same corpus (short.txt) in the same run and process: embeddings/s, the p50 and
 * p95 of one 32-text call, time to the first vector, and how far tfjs's vectors are from onnx fp32's.
 */

interface System {
  name: string;
  backend: 'onnx' | 'tfjs';
  dtype: Dtype;
  /** The folder holding model folders (tfjs reads model.safetensors, which the shared folder does not carry). */
  modelPath: string;
}

interface Measured {
  vectors: Float32Array[];
  embPerS: number;
  callMs: number[];
  coldStartMs: number;
  runtime: string;
}

const CALL_SIZE = 32;

/** The all-MiniLM-L6-v2 folder with the original model.safetensors (fetch-weights.sh is idempotent and checks it). */
function safetensorsModelPath(): string {
  const dest = join(homedir(), '.cache', 'embedder-test-models');
  const printed = execFileSync('bash', [sharedFile('models/fetch-weights.sh'), dest], { encoding: 'utf8' }).trim().split('\n').pop()!;
  return dirname(printed);
}

async function measure(system: System, texts: readonly string[]): Promise<Measured> {
  // Loaded lazily, as the other suites load it: the bench runner starts without the model stack.
  const { EmbedderConfig, EmbeddingGenerator } = await import('@embedder-rag/embedder');
  const began = performance.now();
  const config = new EmbedderConfig().withBackend(system.backend).withDtype(system.dtype).withModelPath(system.modelPath).withCacheSize(0).withBatchSize(CALL_SIZE);
  const generator = await EmbeddingGenerator.create(config);
  try {
    await generator.embed([texts[0]!]);
    const coldStartMs = performance.now() - began;
    const vectors: Float32Array[] = [];
    const callMs: number[] = [];
    const start = performance.now();
    for (let i = 0; i < texts.length; i += CALL_SIZE) {
      const callStart = performance.now();
      vectors.push(...(await generator.embed(texts.slice(i, i + CALL_SIZE))));
      callMs.push(performance.now() - callStart);
    }
    const seconds = (performance.now() - start) / 1000;
    return { vectors, embPerS: texts.length / seconds, callMs, coldStartMs, runtime: generator.getStats().runtime };
  } finally {
    await generator.dispose();
  }
}

async function run(): Promise<SuiteResult> {
  const texts = loadCorpus('short', isQuick() ? 320 : 1600);
  const systems: System[] = [
    { name: 'onnx fp32', backend: 'onnx', dtype: 'fp32', modelPath: modelRoot() },
    { name: 'onnx q8', backend: 'onnx', dtype: 'q8', modelPath: modelRoot() },
    { name: 'tfjs fp32', backend: 'tfjs', dtype: 'fp32', modelPath: safetensorsModelPath() },
  ];
  const results = new Map<string, Measured>();
  for (const system of systems) results.set(system.name, await measure(system, texts));

  const baseline = results.get('onnx fp32')!;
  const rows: BenchRow[] = systems.map((system) => {
    const result = results.get(system.name)!;
    const cosines = result.vectors.map((vector, i) => cosineSimilarity(vector, baseline.vectors[i]!));
    return {
      system: system.name,
      metrics: {
        runtime: result.runtime,
        emb_per_s: result.embPerS,
        p50_ms_32: percentile(result.callMs, 0.5),
        p95_ms_32: percentile(result.callMs, 0.95),
        cold_start_ms: result.coldStartMs,
        // As text: a float rounded for the table would show 1 for any difference below 5e-4.
        min_cos_vs_onnx_fp32: Math.min(...cosines).toFixed(7),
      },
    };
  });
  const tfjs = results.get('tfjs fp32')!;
  return {
    suite: 'backends',
    description: `all-MiniLM-L6-v2 on the first ${texts.length} texts of short.txt, calls of ${CALL_SIZE}, cache off, each backend in turn in one process`,
    rows,
    notes: [
      `tfjs fp32 (${tfjs.runtime}) runs at ${(tfjs.embPerS / baseline.embPerS).toFixed(2)}x onnx fp32 (${baseline.runtime})`,
      'the tfjs runtime is the best one available: tfjs-node(-gpu) when libtensorflow is installed, else wasm (SIMD), else cpu',
    ],
  };
}

export const backendsSuite: BenchSuite = { name: 'backends', run };
export default backendsSuite;
