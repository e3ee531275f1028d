import { describe, expect, it } from 'vitest';
import { RateMeter, formatDuration, shouldDrawProgress } from './progress';

/** Feeds a meter `bursts` bursts of `size` embeddings `everyMs` apart (as windows of batches finish) and returns the predicted finish times. */
function predictedFinishes(meter: RateMeter, total: number, bursts: number, size: number, everyMs: number, fromBurst = 0): number[] {
  const finishes: number[] = [];
  for (let b = fromBurst; b < fromBurst + bursts; b++) {
    const now = (b + 1) * everyMs;
    // A burst: the window's embeddings are written one after another within a millisecond.
    for (let i = 1; i <= size; i++) meter.record(b * size + i, now + i / size);
    finishes.push(now + meter.etaSeconds(total)! * 1000);
  }
  return finishes;
}

describe('RateMeter', () => {
  it('keeps the ETA still when embeddings arrive in bursts (a window of 64 every 2 s)', () => {
    const meter = new RateMeter(0);
    const finishes = predictedFinishes(meter, 2000, 30, 64, 2000);
    // The true finish is at 2000 / 32 per s = 62.5 s: every prediction is within 8% of it.
    for (const finish of finishes) expect(Math.abs(finish - 62_500) / 62_500).toBeLessThan(0.08);
  });

  it('follows a lasting change of speed within a few time constants', () => {
    const meter = new RateMeter(0);
    predictedFinishes(meter, 100_000, 20, 64, 2000);
    expect(Math.abs(meter.rate - 32) / 32).toBeLessThan(0.05);
    // Twice as fast from 40 s on: 64 every second.
    for (let s = 41; s <= 80; s++) {
      for (let i = 1; i <= 64; i++) meter.record(20 * 64 + (s - 40) * 64 - 64 + i, s * 1000 + i / 64);
    }
    expect(Math.abs(meter.rate - 64) / 64).toBeLessThan(0.05);
  });

  it('leaves the embeddings of an earlier run (--resume) out of the rate', () => {
    const meter = new RateMeter(0, 500);
    meter.record(510, 500);
    expect(meter.rate).toBeCloseTo(20, 5);
    expect(meter.etaSeconds(600)).toBeCloseTo(4.5, 5);
  });

  it('has no ETA before anything is done', () => {
    expect(new RateMeter(0).etaSeconds(10)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('reads like a person writes it', () => {
    expect([formatDuration(undefined), formatDuration(4.4), formatDuration(187), formatDuration(3725)]).toEqual(['…', '4s', '3m 07s', '1h 02m']);
  });
});

describe('shouldDrawProgress', () => {
  it('draws on a terminal stderr unless the vectors go to the same terminal; the flag decides when given', () => {
    expect(shouldDrawProgress(undefined, true, false, false)).toBe(true);
    expect(shouldDrawProgress(undefined, true, true, true)).toBe(true);
    expect(shouldDrawProgress(undefined, true, true, false)).toBe(false);
    expect(shouldDrawProgress(undefined, false, false, true)).toBe(false);
    expect(shouldDrawProgress(true, false, false, false)).toBe(true);
    expect(shouldDrawProgress(false, true, false, true)).toBe(false);
  });
});
