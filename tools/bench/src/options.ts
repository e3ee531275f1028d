/** True when `pnpm bench --quick` asked for a fast, smaller run (set by the runner as BENCH_QUICK=1). */
export function isQuick(): boolean {
  return process.env.BENCH_QUICK === '1';
}
