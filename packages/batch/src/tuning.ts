/** One measured configuration, as a calibration run reports it. */
export interface TuningCandidate<C> {
  /** What was measured (e.g. dtype, token budget, threads); returned as chosen. */
  config: C;
  /** Duration of the heaviest batch this configuration allows, in ms (the latency bound). */
  batchMs: number;
  /** Measured throughput, in items per second. */
  itemsPerSecond: number;
  /** Predicted peak memory of the process, in MB. */
  peakMemoryMb: number;
  /** Lower is preferred when several configurations meet every target (e.g. 0 = fp32, 1 = int8). */
  preference: number;
  /** Threads used; fewer is preferred once every target is met (leaves cores to the rest of the process). */
  threads: number;
}

/** The targets of optimizeForConstraints; each is optional. */
export interface TuningTargets {
  maxMemoryMb?: number;
  targetThroughput?: number;
  maxLatencyMs?: number;
}

/** What {@link chooseTuning} decided and why. */
export interface TuningChoice<C> {
  chosen: TuningCandidate<C>;
  /** Which targets the chosen configuration meets. */
  met: { memory: boolean; latency: boolean; throughput: boolean };
  /** One sentence on the rule that picked it. */
  reason: string;
}

function meets<C>(candidate: TuningCandidate<C>, targets: TuningTargets): TuningChoice<C>['met'] {
  return {
    memory: targets.maxMemoryMb === undefined || candidate.peakMemoryMb <= targets.maxMemoryMb,
    latency: targets.maxLatencyMs === undefined || candidate.batchMs <= targets.maxLatencyMs,
    throughput: targets.targetThroughput === undefined || candidate.itemsPerSecond >= targets.targetThroughput,
  };
}

/**
 * Picks a configuration from measurements:
 * 1. among those meeting every target: the preferred (most accurate), then the fewest threads, then the fastest;
 * 2. else among those within memory and latency: the fastest (the throughput target is missed);
 * 3. else the one with the least memory, then the lowest latency (targets missed; reported in `met`).
 * @throws RangeError when there is no candidate.
 */
export function chooseTuning<C>(candidates: readonly TuningCandidate<C>[], targets: TuningTargets): TuningChoice<C> {
  if (candidates.length === 0) throw new RangeError('chooseTuning needs at least one measured candidate');
  const all = candidates.map((candidate) => ({ candidate, met: meets(candidate, targets) }));
  const full = all.filter(({ met }) => met.memory && met.latency && met.throughput);
  if (full.length > 0) {
    full.sort(
      (a, b) =>
        a.candidate.preference - b.candidate.preference ||
        a.candidate.threads - b.candidate.threads ||
        b.candidate.itemsPerSecond - a.candidate.itemsPerSecond,
    );
    const best = full[0]!;
    return { chosen: best.candidate, met: best.met, reason: 'meets every target; most accurate, then fewest threads, then fastest' };
  }
  const bounded = all.filter(({ met }) => met.memory && met.latency);
  if (bounded.length > 0) {
    bounded.sort((a, b) => b.candidate.itemsPerSecond - a.candidate.itemsPerSecond);
    const best = bounded[0]!;
    return { chosen: best.candidate, met: best.met, reason: 'no configuration reaches the throughput target; the fastest within memory and latency' };
  }
  all.sort((a, b) => a.candidate.peakMemoryMb - b.candidate.peakMemoryMb || a.candidate.batchMs - b.candidate.batchMs);
  const best = all[0]!;
  return { chosen: best.candidate, met: best.met, reason: 'no configuration fits memory and latency; the smallest and quickest measured' };
}
