import { describe, expect, it } from 'vitest';
import { chooseTuning, type TuningCandidate } from './tuning';

type Config = { dtype: 'fp32' | 'q8'; budget: number; threads: number };

function candidate(dtype: 'fp32' | 'q8', budget: number, threads: number, batchMs: number, itemsPerSecond: number, peakMemoryMb: number): TuningCandidate<Config> {
  return { config: { dtype, budget, threads }, batchMs, itemsPerSecond, peakMemoryMb, preference: dtype === 'fp32' ? 0 : 1, threads };
}

const measured = [
  candidate('fp32', 1024, 2, 30, 200, 300),
  candidate('fp32', 4096, 2, 120, 260, 420),
  candidate('q8', 1024, 2, 12, 450, 200),
  candidate('q8', 4096, 2, 50, 600, 260),
  candidate('q8', 4096, 1, 90, 330, 250),
];

describe('chooseTuning', () => {
  it('keeps fp32 when it meets every target', () => {
    const choice = chooseTuning(measured, { targetThroughput: 150, maxLatencyMs: 100, maxMemoryMb: 1000 });
    expect(choice.chosen.config).toEqual({ dtype: 'fp32', budget: 1024, threads: 2 });
    expect(choice.met).toEqual({ memory: true, latency: true, throughput: true });
  });

  it('moves to int8 when fp32 cannot reach the throughput, and to fewer threads when they suffice', () => {
    expect(chooseTuning(measured, { targetThroughput: 300 }).chosen.config).toEqual({ dtype: 'q8', budget: 4096, threads: 1 });
    expect(chooseTuning(measured, { targetThroughput: 500 }).chosen.config).toEqual({ dtype: 'q8', budget: 4096, threads: 2 });
  });

  it('respects the memory and latency bounds', () => {
    expect(chooseTuning(measured, { maxMemoryMb: 280, maxLatencyMs: 20 }).chosen.config).toEqual({ dtype: 'q8', budget: 1024, threads: 2 });
  });

  it('takes the fastest within bounds when the throughput target is out of reach, and says so', () => {
    const choice = chooseTuning(measured, { targetThroughput: 10_000, maxLatencyMs: 60 });
    expect(choice.chosen.config).toEqual({ dtype: 'q8', budget: 4096, threads: 2 });
    expect(choice.met.throughput).toBe(false);
    expect(choice.reason).toMatch(/throughput/);
  });

  it('falls back to the smallest configuration when nothing fits', () => {
    const choice = chooseTuning(measured, { maxMemoryMb: 100 });
    expect(choice.chosen.config).toEqual({ dtype: 'q8', budget: 1024, threads: 2 });
    expect(choice.met.memory).toBe(false);
  });

  it('refuses an empty list', () => {
    expect(() => chooseTuning([], {})).toThrow(RangeError);
  });
});
