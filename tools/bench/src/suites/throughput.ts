import type { ThroughputJob, ThroughputResult } from '../child';
import { runChild } from '../measure';
import { isQuick } from '../options';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * embedder against @huggingface/transformers (feature-extraction pipeline) on the same ONNX files, fp32 and q8,
 * measured in the same run, each job in its own process: embeddings/s and word pieces/s on the short and mixed
 * corpora, p50/p95 latency of one 32-text batch, cold start (process start → first vector), peak RSS (VmHWM).
 */

type Dtype = 'fp32' | 'q8';
type System = ThroughputJob['system'];

/** The goals of issue 5, as ratios to transformers.js in the same run or absolute limits. */
const GOALS = {
  shortRatio: { fp32: 1.5, q8: 2 },
  mixedRatio: { fp32: 5, q8: 5 },
  p50Ms: { fp32: 80, q8: 40 },
  peakRssMixedMb: 600,
};

async function run(): Promise<SuiteResult> {
  const quick = isQuick();
  const plan = {
    short: { limit: quick ? 600 : undefined, passes: quick ? 1 : 2 },
    mixed: { limit: quick ? 120 : undefined, passes: 1 },
    latencyReps: quick ? 10 : 40,
  };
  const results = new Map<string, { short: ThroughputResult; mixed: ThroughputResult }>();
  const dtypes: Dtype[] = ['fp32', 'q8'];
  const systems: System[] = ['embedder', 'transformers.js'];
  for (const dtype of dtypes) {
    for (const system of systems) {
      const base = { kind: 'throughput' as const, system, dtype };
      const short = await runChild<ThroughputResult>({ ...base, corpus: 'short', ...plan.short, latencyReps: plan.latencyReps });
      const mixed = await runChild<ThroughputResult>({ ...base, corpus: 'mixed', ...plan.mixed, latencyReps: 0 });
      results.set(`${system} ${dtype}`, { short, mixed });
    }
  }

  const rows: BenchRow[] = [...results].map(([system, { short, mixed }]) => ({
    system,
    metrics: {
      short_emb_per_s: short.embPerS,
      short_wp_per_s: short.wpPerS,
      mixed_emb_per_s: mixed.embPerS,
      mixed_wp_per_s: mixed.wpPerS,
      p50_ms_32: short.p50Ms ?? Number.NaN,
      p95_ms_32: short.p95Ms ?? Number.NaN,
      cold_start_ms: short.coldStartMs,
      peak_rss_short_mb: short.peakRssMb,
      peak_rss_mixed_mb: mixed.peakRssMb,
    },
  }));

  const notes: string[] = [];
  const check = (ok: boolean, text: string) => notes.push(`${ok ? 'PASS' : 'FAIL'} ${text}`);
  for (const dtype of dtypes) {
    const ours = results.get(`embedder ${dtype}`);
    const peer = results.get(`transformers.js ${dtype}`);
    if (!ours || !peer) continue;
    const shortRatio = ours.short.embPerS / peer.short.embPerS;
    const mixedRatio = ours.mixed.embPerS / peer.mixed.embPerS;
    check(shortRatio >= GOALS.shortRatio[dtype], `${dtype} short: ${shortRatio.toFixed(2)}x transformers.js (goal >= ${GOALS.shortRatio[dtype]}x)`);
    check(mixedRatio >= GOALS.mixedRatio[dtype], `${dtype} mixed: ${mixedRatio.toFixed(2)}x transformers.js (goal >= ${GOALS.mixedRatio[dtype]}x)`);
    const p50 = ours.short.p50Ms ?? Number.NaN;
    check(p50 <= GOALS.p50Ms[dtype], `${dtype} p50 of one 32-text batch: ${p50.toFixed(1)} ms (goal <= ${GOALS.p50Ms[dtype]} ms)`);
    check(
      ours.short.coldStartMs <= peer.short.coldStartMs,
      `${dtype} cold start: ${ours.short.coldStartMs.toFixed(0)} ms vs transformers.js ${peer.short.coldStartMs.toFixed(0)} ms (goal: no slower)`,
    );
    check(ours.mixed.peakRssMb < GOALS.peakRssMixedMb, `${dtype} peak RSS on mixed: ${ours.mixed.peakRssMb.toFixed(0)} MB (goal < ${GOALS.peakRssMixedMb} MB; transformers.js ${peer.mixed.peakRssMb.toFixed(0)} MB)`);
  }
  const embedderSettings = results.get('embedder fp32')?.short.describe;
  if (embedderSettings) notes.push(`embedder settings: ${JSON.stringify(embedderSettings)}`);

  const shortTexts = results.get('embedder fp32')?.short.texts ?? 0;
  const mixedTexts = results.get('embedder fp32')?.mixed.texts ?? 0;
  return {
    suite: 'throughput',
    description:
      `all-MiniLM-L6-v2, ${shortTexts} short texts (best of ${plan.short.passes}) and ${mixedTexts} mixed chunks; embedder: one embed() per corpus, ` +
      `transformers.js: pipeline calls of 32 (mean, normalize); latency: ${plan.latencyReps} calls of 32 short texts; each system in its own process`,
    rows,
    notes,
  };
}

export const throughputSuite: BenchSuite = { name: 'throughput', run };
export default throughputSuite;
