/**
 * One bench measurement in its own process: `node dist/child.js '<job json>'` prints one JSON line.
 * Separate processes keep peak RSS (VmHWM) and cold start per system honest.
 */
import { loadMiniLmReference, sharedFile } from '@embedder-rag/test-fixtures';
import { evaluateSts, loadStsb, cosineSimilarity } from '@embedder-rag/eval';
import { loadCorpus, type CorpusName } from './corpora';
import { peakRssMb, percentile } from './measure';
import { openEmbedder, openOnnxRuntime, openTransformers, type BenchSystem, type EmbedderJobConfig } from './systems';

/** A throughput job: cold start, corpus passes, 32-text latency, peak RSS. */
export interface ThroughputJob extends EmbedderJobConfig {
  kind: 'throughput';
  system: 'embedder' | 'transformers.js' | 'onnxruntime';
  corpus: CorpusName;
  limit?: number;
  passes: number;
  latencyReps: number;
}

/** A quality job: STS-B Spearman, cosine to the sentence-transformers reference, batch-neighbour shift. */
export interface QualityJob extends EmbedderJobConfig {
  kind: 'quality';
  system: 'embedder' | 'transformers.js';
  stsbLimit?: number;
}

/** What a throughput job reports. */
export interface ThroughputResult {
  coldStartMs: number;
  texts: number;
  wordPieces: number;
  seconds: number[];
  embPerS: number;
  wpPerS: number;
  p50Ms?: number;
  p95Ms?: number;
  peakRssMb: number;
  describe: Record<string, unknown>;
}

/** What a quality job reports. */
export interface QualityResult {
  spearman: number;
  pearson: number;
  pairs: number;
  refMinCos: number;
  refMeanCos: number;
  /** Lowest cosine between a text embedded alone and inside a batch (q8 activations are quantised per batch). */
  batchShiftMinCos: number;
  peakRssMb: number;
}

async function open(job: ThroughputJob | QualityJob): Promise<BenchSystem> {
  if (job.system === 'embedder') return openEmbedder(job);
  // The peers run the published files: their q8 is the per-tensor one.
  const dtype = job.dtype === 'fp32' ? 'fp32' : 'q8';
  return job.system === 'onnxruntime' ? openOnnxRuntime(dtype) : openTransformers(dtype);
}

async function throughput(job: ThroughputJob): Promise<ThroughputResult> {
  const system = await open(job);
  await system.embed(['The first vector after process start.']);
  // performance.now() counts from process start: import, model load and the first vector.
  const coldStartMs = performance.now();
  const texts = loadCorpus(job.corpus, job.limit);
  const wordPieces = system.countWordPieces(texts);
  const seconds: number[] = [];
  for (let pass = 0; pass < job.passes; pass++) {
    const started = performance.now();
    await system.embed(texts);
    seconds.push((performance.now() - started) / 1000);
  }
  const best = Math.min(...seconds);
  const latencies: number[] = [];
  if (job.latencyReps > 0) {
    const short = loadCorpus('short');
    await system.embed(short.slice(0, 32));
    for (let rep = 0; rep < job.latencyReps; rep++) {
      const start = (rep * 32) % (short.length - 32);
      const started = performance.now();
      await system.embed(short.slice(start, start + 32));
      latencies.push(performance.now() - started);
    }
  }
  const result: ThroughputResult = {
    coldStartMs,
    texts: texts.length,
    wordPieces,
    seconds,
    embPerS: texts.length / best,
    wpPerS: wordPieces / best,
    ...(latencies.length > 0 ? { p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95) } : {}),
    peakRssMb: peakRssMb(),
    describe: system.describe(),
  };
  await system.dispose();
  return result;
}

async function quality(job: QualityJob): Promise<QualityResult> {
  const system = await open(job);
  const pairs = loadStsb(sharedFile('data/stsb/sts-test.csv')).slice(0, job.stsbLimit);
  const sts = await evaluateSts(pairs, (texts) => system.embed(texts));
  const reference = loadMiniLmReference();
  const together = await system.embed(reference.map((row) => row.text));
  const cosines = reference.map((row, i) => cosineSimilarity(together[i] ?? [], row.embedding));
  let batchShiftMinCos = 1;
  for (let i = 0; i < Math.min(40, reference.length); i++) {
    const [alone] = await system.embed([reference[i]?.text ?? '']);
    batchShiftMinCos = Math.min(batchShiftMinCos, cosineSimilarity(alone ?? [], together[i] ?? []));
  }
  const result: QualityResult = {
    spearman: sts.spearman,
    pearson: sts.pearson,
    pairs: sts.pairs,
    refMinCos: Math.min(...cosines),
    refMeanCos: cosines.reduce((s, c) => s + c, 0) / cosines.length,
    batchShiftMinCos,
    peakRssMb: peakRssMb(),
  };
  await system.dispose();
  return result;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ThroughputJob | QualityJob;
const output = job.kind === 'quality' ? await quality(job) : await throughput(job);
process.stdout.write(`${JSON.stringify(output)}\n`);
// onnxruntime's thread pool can keep the process alive a moment; the result is out, so leave now.
process.exit(0);
