/**
 * The contract every benchmark suite follows. `pnpm bench` runs the suites (all, or those named on the command
 * line), prints one table per suite and writes every result to bench-results/latest.json.
 * Numbers are reported beside a peer measured in the same run: these machines are noisy.
 */
export interface BenchRow {
  /** What was measured, e.g. `embedder fp32` or `naive number[] top-10`. */
  system: string;
  /** Metric name → value (units in the name: `emb_per_s`, `p50_ms`, `peak_rss_mb`…). */
  metrics: Record<string, number | string>;
}

export interface SuiteResult {
  suite: string;
  /** One line on what was measured and how (corpus, sizes, repetitions). */
  description: string;
  rows: BenchRow[];
  /** Ratios or pass/fail lines against the goals, printed under the table. */
  notes?: string[];
}

export interface BenchSuite {
  name: string;
  run(): Promise<SuiteResult>;
}
