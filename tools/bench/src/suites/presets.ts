import type { ThroughputJob, ThroughputResult } from '../child';
import { runChild } from '../measure';
import { isQuick } from '../options';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * What each EmbedderConfig preset changes: the settings it picks and the throughput, latency and peak memory that
 * follow, each preset in its own process on the same corpora.
 */
const PRESETS: { name: string; job: Pick<ThroughputJob, 'dtype' | 'preset' | 'constraints'> }[] = [
  { name: 'default', job: { dtype: 'fp32' } },
  { name: 'highPerformance()', job: { dtype: 'fp32', preset: 'high-performance' } },
  { name: 'lowMemory()', job: { dtype: 'fp32', preset: 'low-memory' } },
  {
    name: 'optimizeForConstraints(400 MB, 300/s, 50 ms)',
    job: { dtype: 'fp32', preset: 'constrained', constraints: { maxMemoryMb: 400, targetThroughput: 300, maxLatencyMs: 50 } },
  },
];

async function run(): Promise<SuiteResult> {
  const quick = isQuick();
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const preset of PRESETS) {
    const base = { kind: 'throughput' as const, system: 'embedder' as const, ...preset.job };
    // Best of 2 passes: a first pass in a new process runs up to a fifth slower (onnxruntime and V8 warming to the
    // batch shapes), which made the preset that calibrates (and so warms up) first look faster than it was.
    const passes = quick ? 1 : 2;
    const short = await runChild<ThroughputResult>({ ...base, corpus: 'short', limit: quick ? 600 : 1500, passes, latencyReps: quick ? 10 : 20 });
    const mixed = await runChild<ThroughputResult>({ ...base, corpus: 'mixed', limit: quick ? 120 : 400, passes, latencyReps: 0 });
    const d = short.describe;
    rows.push({
      system: preset.name,
      metrics: {
        dtype: String(d.dtype),
        batch_size: Number(d.batchSize),
        max_batch_tokens: Number(d.maxBatchTokens),
        threads: Number(d.threads),
        replicas: Number(d.replicas),
        arena: String(d.memoryArena),
        cache: Number(d.cacheSize),
        short_emb_per_s: short.embPerS,
        mixed_emb_per_s: mixed.embPerS,
        p50_ms_32: short.p50Ms ?? Number.NaN,
        peak_rss_mixed_mb: mixed.peakRssMb,
        cold_start_ms: short.coldStartMs,
      },
    });
    if (preset.job.preset === 'constrained') notes.push(`${preset.name} tuning: ${JSON.stringify(d.tuning)}`);
  }
  notes.push('cache = the entries the preset chose; the bench itself runs with the cache off so that each text is computed');
  return {
    suite: 'presets',
    description: `embedder presets on ${quick ? 600 : 1500} short texts and ${quick ? 120 : 400} mixed chunks (best of ${quick ? 1 : 2} passes), each in its own process`,
    rows,
    notes,
  };
}

export const presetsSuite: BenchSuite = { name: 'presets', run };
export default presetsSuite;
