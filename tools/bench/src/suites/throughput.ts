import type { ThroughputJob, ThroughputResult } from '../child';
import { percentile, runChild } from '../measure';
import { isQuick } from '../options';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * embedder against @huggingface/transformers (feature-extraction pipeline) on the same ONNX files, fp32 and q8,
 * measured in the same run, each job in its own process: embeddings/s and word pieces/s on the short and mixed
 * corpora, p50/p95 latency of one 32-text batch, cold start (process start → first vector), peak RSS (VmHWM).
 *
 * The short corpus runs in paired rounds (the systems back to back, the order alternating), and
 * each goal is judged on the median of the per-round ratios: on a shared 2-core VM the speed of the machine drifts
 * over minutes, and two systems measured minutes apart can differ by more than the effect being measured.
 *
 * A third system, onnxruntime-node alone on length-sorted batches of 32, is the runtime's ceiling: it shows how
 * much of a goal is left to scheduling and how much only a faster CPU (or kernel) can give.
 */

type Dtype = 'fp32' | 'q8';
type System = ThroughputJob['system'];

/**
 * The goals of issues 5 and 19, as ratios to transformers.js in the same run or absolute limits. embedder's q8 is
 * the row-wise file; `embedder q8-dynamic` (the per-tensor file transformers.js also runs) is measured in the same
 * paired rounds, and row-wise must keep >= 0.95x of it.
 */
const GOALS = {
  shortRatio: { fp32: 1.6, q8: 2 },
  mixedRatio: { fp32: 5, q8: 5 },
  p50Ms: { fp32: 80, q8: 35 },
  peakRssMixedMb: 600,
  rowwiseVsPerTensor: 0.95,
};

/** One system of a dtype's paired rounds: who runs, the dtype the job asks for, and a preset on top of the defaults. */
interface Entry {
  key: string;
  system: System;
  dtype: ThroughputJob['dtype'];
  preset?: 'high-performance';
}

const entry = (system: System, dtype: ThroughputJob['dtype'], preset?: 'high-performance'): Entry => ({
  key: `${system} ${dtype}${preset ? ` ${preset}` : ''}`,
  system,
  dtype,
  ...(preset ? { preset } : {}),
});

/**
 * The systems of a dtype's paired rounds. q8 adds the per-tensor file (q8-dynamic) and both int8 files under
 * highPerformance(), embedder's throughput preset (two replicas of one thread each): the defaults keep one replica
 * for memory (peak RSS on the mixed corpus about 330 vs 630 MB), and a user after q8 throughput is pointed there.
 */
function entries(dtype: Dtype, systems: readonly System[]): Entry[] {
  const list = systems.map((system) => entry(system, dtype));
  if (dtype === 'q8') {
    list.splice(1, 0, entry('embedder', 'q8-dynamic'), entry('embedder', 'q8', 'high-performance'), entry('embedder', 'q8-dynamic', 'high-performance'));
  }
  return list;
}

/** The middle value (the rounds are odd in number, so this is the true median). */
const median = (values: readonly number[]) => percentile(values, 0.5);

/** The median of each numeric field over rounds (a system's row). */
function medianResult(rounds: readonly ThroughputResult[]): ThroughputResult {
  const pick = (field: keyof ThroughputResult) => median(rounds.map((r) => Number(r[field] ?? Number.NaN)));
  return {
    ...rounds[0]!,
    coldStartMs: pick('coldStartMs'),
    embPerS: pick('embPerS'),
    wpPerS: pick('wpPerS'),
    p50Ms: pick('p50Ms'),
    p95Ms: pick('p95Ms'),
    peakRssMb: pick('peakRssMb'),
    seconds: rounds.flatMap((r) => r.seconds),
  };
}

async function run(): Promise<SuiteResult> {
  const quick = isQuick();
  const plan = {
    rounds: quick ? 1 : 3,
    short: { limit: quick ? 600 : undefined, passes: quick ? 1 : 2 },
    mixed: { limit: quick ? 120 : undefined, passes: 1 },
    latencyReps: quick ? 10 : 40,
  };
  const dtypes: Dtype[] = ['fp32', 'q8'];
  const systems: System[] = ['embedder', 'transformers.js', 'onnxruntime'];
  const shortRounds = new Map<string, ThroughputResult[]>();
  const mixedResults = new Map<string, ThroughputResult>();
  // Makes the row-wise q8 file (once per model, into the cache) before anything is timed.
  await runChild<ThroughputResult>({ kind: 'throughput', system: 'embedder', dtype: 'q8', corpus: 'short', limit: 8, passes: 1, latencyReps: 0 });
  for (const dtype of dtypes) {
    const list = entries(dtype, systems);
    for (let round = 0; round < plan.rounds; round++) {
      for (const { key, system, dtype: jobDtype, preset } of round % 2 === 0 ? list : [...list].reverse()) {
        const job = { kind: 'throughput' as const, system, dtype: jobDtype, preset, corpus: 'short' as const, ...plan.short, latencyReps: plan.latencyReps };
        const result = await runChild<ThroughputResult>(job);
        shortRounds.set(key, [...(shortRounds.get(key) ?? []), result]);
      }
    }
    for (const { key, system, dtype: jobDtype, preset } of list) {
      const job = { kind: 'throughput' as const, system, dtype: jobDtype, preset, corpus: 'mixed' as const, ...plan.mixed, latencyReps: 0 };
      mixedResults.set(key, await runChild<ThroughputResult>(job));
    }
  }
  const results = new Map<string, { short: ThroughputResult; mixed: ThroughputResult }>();
  for (const dtype of dtypes) {
    for (const { key } of entries(dtype, systems)) {
      results.set(key, { short: medianResult(shortRounds.get(key)!), mixed: mixedResults.get(key)! });
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
  const each = (values: number[], digits: number) => values.map((v) => v.toFixed(digits)).join(', ');
  // Each goal against transformers.js, for embedder's defaults and (q8) for highPerformance().
  const judged: [Dtype, string][] = [
    ['fp32', 'embedder fp32'],
    ['q8', 'embedder q8'],
    ['q8', 'embedder q8 high-performance'],
  ];
  for (const [dtype, key] of judged) {
    const ours = results.get(key);
    const peer = results.get(`transformers.js ${dtype}`);
    if (!ours || !peer) continue;
    const label = key.replace('embedder ', '');
    const oursRounds = shortRounds.get(key)!;
    const peerRounds = shortRounds.get(`transformers.js ${dtype}`)!;
    const roundRatios = oursRounds.map((r, i) => r.embPerS / peerRounds[i]!.embPerS);
    const shortRatio = median(roundRatios);
    const coldStartDiffs = oursRounds.map((r, i) => r.coldStartMs - peerRounds[i]!.coldStartMs);
    const mixedRatio = ours.mixed.embPerS / peer.mixed.embPerS;
    check(
      shortRatio >= GOALS.shortRatio[dtype],
      `${label} short: ${shortRatio.toFixed(2)}x transformers.js, median of rounds [${each(roundRatios, 2)}] (goal >= ${GOALS.shortRatio[dtype]}x)`,
    );
    check(mixedRatio >= GOALS.mixedRatio[dtype], `${label} mixed: ${mixedRatio.toFixed(2)}x transformers.js (goal >= ${GOALS.mixedRatio[dtype]}x)`);
    const p50 = ours.short.p50Ms ?? Number.NaN;
    check(p50 <= GOALS.p50Ms[dtype], `${label} p50 of one 32-text batch: ${p50.toFixed(1)} ms, median of rounds (goal <= ${GOALS.p50Ms[dtype]} ms)`);
    check(
      median(coldStartDiffs) <= 0,
      `${label} cold start: ${ours.short.coldStartMs.toFixed(0)} ms vs transformers.js ${peer.short.coldStartMs.toFixed(0)} ms, ours minus theirs per round [${each(coldStartDiffs, 0)}] ms (goal: no slower)`,
    );
    check(ours.mixed.peakRssMb < GOALS.peakRssMixedMb, `${label} peak RSS on mixed: ${ours.mixed.peakRssMb.toFixed(0)} MB (goal < ${GOALS.peakRssMixedMb} MB; transformers.js ${peer.mixed.peakRssMb.toFixed(0)} MB)`);
    const runtime = key === `embedder ${dtype}` ? results.get(`onnxruntime ${dtype}`) : undefined;
    if (runtime) {
      const runtimeRounds = shortRounds.get(`onnxruntime ${dtype}`)!;
      const runtimeRatio = median(runtimeRounds.map((r, i) => r.embPerS / peerRounds[i]!.embPerS));
      notes.push(
        `${dtype} runtime alone (onnxruntime-node, sorted batches of 32): short ${runtimeRatio.toFixed(2)}x transformers.js, ` +
          `embedder at ${((100 * ours.short.embPerS) / runtime.short.embPerS).toFixed(0)}% of it; p50 ${(runtime.short.p50Ms ?? Number.NaN).toFixed(1)} ms; ` +
          `mixed ${(runtime.mixed.embPerS / peer.mixed.embPerS).toFixed(2)}x`,
      );
    }
  }
  for (const preset of ['', ' high-performance']) {
    const rowwise = shortRounds.get(`embedder q8${preset}`);
    const perTensor = shortRounds.get(`embedder q8-dynamic${preset}`);
    if (!rowwise || !perTensor) continue;
    const roundRatios = rowwise.map((r, i) => r.embPerS / perTensor[i]!.embPerS);
    const shortRatio = median(roundRatios);
    const mixedRatio = results.get(`embedder q8${preset}`)!.mixed.embPerS / results.get(`embedder q8-dynamic${preset}`)!.mixed.embPerS;
    check(
      shortRatio >= GOALS.rowwiseVsPerTensor,
      `q8${preset} row-wise vs per-tensor (q8 / q8-dynamic) short: ${shortRatio.toFixed(3)}x, median of rounds [${each(roundRatios, 3)}] (goal >= ${GOALS.rowwiseVsPerTensor}x)`,
    );
    check(mixedRatio >= GOALS.rowwiseVsPerTensor, `q8${preset} row-wise vs per-tensor mixed: ${mixedRatio.toFixed(3)}x (goal >= ${GOALS.rowwiseVsPerTensor}x)`);
  }
  const embedderSettings = results.get('embedder fp32')?.short.describe;
  if (embedderSettings) notes.push(`embedder settings: ${JSON.stringify(embedderSettings)}`);

  const shortTexts = results.get('embedder fp32')?.short.texts ?? 0;
  const mixedTexts = results.get('embedder fp32')?.mixed.texts ?? 0;
  return {
    suite: 'throughput',
    description:
      `all-MiniLM-L6-v2, ${shortTexts} short texts (best of ${plan.short.passes} passes per process; medians of ${plan.rounds} paired rounds) and ${mixedTexts} mixed chunks; embedder: one embed() per corpus, ` +
      `transformers.js: pipeline calls of 32 (mean, normalize); onnxruntime: sorted batches of 32; latency: ${plan.latencyReps} calls of 32 short texts; each system in its own process`,
    rows,
    notes,
  };
}

export const throughputSuite: BenchSuite = { name: 'throughput', run };
export default throughputSuite;
