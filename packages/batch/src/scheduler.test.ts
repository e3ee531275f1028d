import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isEmbedderError } from '@embedder-rag/core';
import { BatchScheduler } from './scheduler';
import type { BatchRunEvent, BatchSchedulerOptions } from './types';

interface Item {
  id: string;
  tokens: number;
}

const item = (id: string, tokens: number): Item => ({ id, tokens });

/** An execute() whose batches finish only when the test says so, recording what it was given. */
function gatedExecutor() {
  const batches: string[][] = [];
  const prepared: string[][] = [];
  const gates: (() => void)[] = [];
  return {
    batches,
    prepared,
    prepare: (items: readonly Item[]) => {
      const ids = items.map((i) => i.id);
      prepared.push(ids);
      return ids;
    },
    execute: (ids: string[]) => {
      batches.push(ids);
      return new Promise<string[]>((resolve) => gates.push(() => resolve(ids.map((id) => `r:${id}`))));
    },
    /** Finishes the oldest running batch. */
    release: async () => {
      gates.shift()?.();
      await flush();
    },
    running: () => gates.length,
  };
}

/** Lets queued microtasks and promise callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function immediate(options: Partial<BatchSchedulerOptions<Item, readonly Item[], string>> = {}) {
  const seen: Item[][] = [];
  const scheduler = new BatchScheduler<Item, readonly Item[], string>({
    prepare: (items) => items,
    execute: async (items) => {
      seen.push([...items]);
      return items.map((i) => `r:${i.id}`);
    },
    ...options,
  });
  return { scheduler, seen };
}

describe('BatchScheduler', () => {
  it('returns results in input order although batches are sorted by length', async () => {
    const { scheduler, seen } = immediate({ maxBatchTokens: 40, maxBatchSize: 4 });
    const items = [3, 17, 5, 9, 1, 12, 8, 2, 20, 4].map((t, i) => item(`t${i}`, t));
    const results = await scheduler.submit(items);
    expect(results).toEqual(items.map((i) => `r:${i.id}`));
    // Sorted longest first: the first batch starts with the 20-token item.
    expect(seen[0]?.[0]?.tokens).toBe(20);
    expect(seen.flat()).toHaveLength(items.length);
  });

  it('never exceeds the token budget or batch size, except one over-budget item alone', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 16, max: 2048 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 64 }),
        async (tokens, budget, size, windowSize) => {
          const { scheduler, seen } = immediate({ maxBatchTokens: budget, maxBatchSize: size, windowSize });
          const items = tokens.map((t, i) => item(`t${i}`, t));
          const results = await scheduler.submit(items);
          expect(results).toEqual(items.map((i) => `r:${i.id}`));
          for (const batch of seen) {
            expect(batch.length).toBeLessThanOrEqual(size);
            const padded = Math.max(...batch.map((i) => i.tokens)) * batch.length;
            if (batch.length > 1) expect(padded).toBeLessThanOrEqual(budget);
          }
          expect(seen.flat().map((i) => i.id).sort()).toEqual(items.map((i) => i.id).sort());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('runs an item longer than the budget alone', async () => {
    const { scheduler, seen } = immediate({ maxBatchTokens: 100, maxBatchSize: 8 });
    await scheduler.submit([item('a', 10), item('huge', 500), item('b', 10)]);
    expect(seen.map((b) => b.map((i) => i.id))).toEqual([['huge'], ['a', 'b']]);
  });

  it('groups similar lengths within a window and not across windows', async () => {
    const tokens = [50, 1, 50, 1, 50, 1, 50, 1];
    // Padding-bounded cutting is off here: this checks the window alone.
    const whole = immediate({ maxBatchTokens: 100, maxBatchSize: 2, windowSize: 8, maxPaddingRatio: Number.POSITIVE_INFINITY });
    await whole.scheduler.submit(tokens.map((t, i) => item(`t${i}`, t)));
    expect(whole.seen.map((b) => b.map((i) => i.tokens))).toEqual([[50, 50], [50, 50], [1, 1], [1, 1]]);

    const pairs = immediate({ maxBatchTokens: 100, maxBatchSize: 2, windowSize: 2, maxPaddingRatio: Number.POSITIVE_INFINITY });
    await pairs.scheduler.submit(tokens.map((t, i) => item(`t${i}`, t)));
    expect(pairs.seen.map((b) => b.map((i) => i.tokens))).toEqual([[50, 1], [50, 1], [50, 1], [50, 1]]);
    expect(pairs.scheduler.stats().paddingEfficiency).toBeLessThan(whole.scheduler.stats().paddingEfficiency);
  });

  it('merges calls made in the same tick into one batch and splits the results back', async () => {
    const { scheduler, seen } = immediate({ maxBatchTokens: 1000, maxBatchSize: 16, maxPaddingRatio: Number.POSITIVE_INFINITY });
    const [a, b, c] = await Promise.all([
      scheduler.submit([item('a0', 5), item('a1', 7)]),
      scheduler.submit([item('b0', 6)]),
      scheduler.submit([item('c0', 2), item('c1', 9), item('c2', 3)]),
    ]);
    expect(seen).toHaveLength(1);
    expect(a).toEqual(['r:a0', 'r:a1']);
    expect(b).toEqual(['r:b0']);
    expect(c).toEqual(['r:c0', 'r:c1', 'r:c2']);
  });

  it('cuts concurrent single texts of mixed lengths where padding would dominate', async () => {
    const lengths = [53, 12, 40, 9, 38, 14, 52, 10];
    const loose = immediate({ maxBatchTokens: 8192, maxBatchSize: 32, maxPaddingRatio: 1.3 });
    await Promise.all(lengths.map((t, i) => loose.scheduler.submit([item(`t${i}`, t)])));
    expect(loose.seen.map((b) => b.map((i) => i.tokens))).toEqual([[53, 52, 40, 38], [14, 12, 10, 9]]);
    // The default (1.2): 4 x 14 padded tokens for 45 real is over the bound, so 9 runs on its own.
    const { scheduler, seen } = immediate({ maxBatchTokens: 8192, maxBatchSize: 32 });
    await Promise.all(lengths.map((t, i) => scheduler.submit([item(`t${i}`, t)])));
    expect(seen.map((b) => b.map((i) => i.tokens))).toEqual([[53, 52, 40, 38], [14, 12, 10], [9]]);
    expect(() => immediate({ maxPaddingRatio: 0.5 })).toThrowError(/maxPaddingRatio must be at least 1/);
  });

  it('with batchOverheadTokens, cuts concurrent single texts where the padding costs more than another batch', async () => {
    const lengths = [53, 12, 40, 9, 38, 14, 52, 10];
    // 16 tokens per batch: [53,52] + [40,38] (2 x 16 + 106 + 80 = 218) beat [53,52,40,38] (16 + 212 = 228).
    const { scheduler, seen } = immediate({ maxBatchTokens: 8192, maxBatchSize: 32, batchOverheadTokens: 16 });
    await Promise.all(lengths.map((t, i) => scheduler.submit([item(`t${i}`, t)])));
    expect(seen.map((b) => b.map((i) => i.tokens))).toEqual([[53, 52], [40, 38], [14, 12], [10, 9]]);
    // A big per-batch cost keeps the greedy batches where the ratio allows them.
    const costly = immediate({ maxBatchTokens: 8192, maxBatchSize: 32, maxPaddingRatio: 1.3, batchOverheadTokens: 1000 });
    await Promise.all(lengths.map((t, i) => costly.scheduler.submit([item(`t${i}`, t)])));
    expect(costly.seen.map((b) => b.map((i) => i.tokens))).toEqual([[53, 52, 40, 38], [14, 12, 10, 9]]);
    expect(() => immediate({ batchOverheadTokens: -1 })).toThrowError(/batchOverheadTokens must be 0 or more/);
  });

  it('merges calls that arrive while a batch runs into the next batch', async () => {
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 8 });
    const first = scheduler.submit([item('x', 4)]);
    await flush();
    const later = [1, 2, 3].map((n) => scheduler.submit([item(`y${n}`, 4)]));
    await flush();
    expect(ex.batches).toEqual([['x']]);
    await ex.release();
    expect(ex.batches[1]?.sort()).toEqual(['y1', 'y2', 'y3']);
    await ex.release();
    await expect(first).resolves.toEqual(['r:x']);
    await expect(Promise.all(later)).resolves.toEqual([['r:y1'], ['r:y2'], ['r:y3']]);
  });

  it('fails at once with OVERLOADED when the queue bound would be exceeded', async () => {
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 1, maxQueueItems: 3, prefetch: 0 });
    const running = scheduler.submit([item('a', 1)]);
    await flush();
    const waiting = scheduler.submit([item('b', 1), item('c', 1)]);
    await flush();
    expect(scheduler.queued()).toBe(2);
    const refused = scheduler.submit([item('d', 1), item('e', 1)]);
    await expect(refused).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'OVERLOADED'));
    await expect(refused).rejects.toMatchObject({ details: { queued: 2, requested: 2, limit: 3 } });
    // One more still fits.
    const fits = scheduler.submit([item('f', 1)]);
    while (ex.running() > 0) await ex.release();
    await expect(Promise.all([running, waiting, fits])).resolves.toEqual([['r:a'], ['r:b', 'r:c'], ['r:f']]);
  });

  it('drops the queued items of an aborted call and rejects it with the reason', async () => {
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 2, prefetch: 0 });
    const first = scheduler.submit([item('a', 3)]);
    await flush();
    const controller = new AbortController();
    const aborted = scheduler.submit([item('x1', 3), item('x2', 3), item('x3', 3)], { signal: controller.signal });
    const kept = scheduler.submit([item('k', 3)]);
    await flush();
    expect(scheduler.queued()).toBe(4);
    controller.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    expect(scheduler.queued()).toBe(1);
    while (ex.running() > 0) await ex.release();
    await expect(first).resolves.toEqual(['r:a']);
    await expect(kept).resolves.toEqual(['r:k']);
    expect(ex.prepared.flat()).not.toContain('x1');
    expect(ex.batches.flat().sort()).toEqual(['a', 'k']);
  });

  it('rejects a call whose signal is already aborted without queueing it', async () => {
    const { scheduler, seen } = immediate();
    await expect(scheduler.submit([item('a', 1)], { signal: AbortSignal.abort(new Error('late')) })).rejects.toThrow('late');
    expect(seen).toHaveLength(0);
  });

  it('prepares the next full batch while the current one executes', async () => {
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 2, maxBatchTokens: 1000 });
    const all = scheduler.submit([1, 2, 3, 4, 5, 6].map((n) => item(`i${n}`, 10)));
    await flush();
    expect(ex.batches).toHaveLength(1);
    // Batch 2 was collated before batch 1 finished.
    expect(ex.prepared).toHaveLength(2);
    expect(scheduler.queued()).toBe(4);
    await ex.release();
    expect(ex.batches).toHaveLength(2);
    expect(ex.prepared).toHaveLength(3);
    while (ex.running() > 0) await ex.release();
    await expect(all).resolves.toHaveLength(6);
  });

  it('does not prepare a partial batch ahead, so that later calls can still join it', async () => {
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 4 });
    const first = scheduler.submit([item('a', 5)]);
    await flush();
    const second = scheduler.submit([item('b', 5)]);
    await flush();
    expect(ex.prepared).toEqual([['a']]);
    const third = scheduler.submit([item('c', 5)]);
    await ex.release();
    expect(ex.batches[1]).toEqual(['b', 'c']);
    await ex.release();
    await expect(Promise.all([first, second, third])).resolves.toHaveLength(3);
  });

  it('adapts the token budget to a latency target using the measured execute time', async () => {
    let now = 0;
    const events: BatchRunEvent[] = [];
    const scheduler = new BatchScheduler<Item, readonly Item[], number>({
      prepare: (items) => items,
      // A fake model: 0.01 ms per padded token, on an injected clock.
      execute: async (items) => {
        now += Math.max(...items.map((i) => i.tokens)) * items.length * 0.01;
        return items.map((i) => i.tokens);
      },
      clock: () => now,
      maxBatchTokens: 16384,
      maxBatchSize: 1024,
      minBatchTokens: 256,
      targetLatencyMs: 20,
      onBatch: (event) => events.push(event),
    });
    expect(scheduler.budget).toBe(16384);
    await scheduler.submit(Array.from({ length: 4000 }, (_, i) => item(`t${i}`, 16)));
    // 20 ms / 0.01 ms per token, give or take floating-point rounding.
    expect(scheduler.budget).toBeGreaterThanOrEqual(1999);
    expect(scheduler.budget).toBeLessThanOrEqual(2000);
    expect(events[0]?.executeMs).toBeCloseTo(163.84);
    // The batch prepared ahead still used the old budget; the ones after it follow the new one.
    const last = events.at(-2);
    expect(last?.paddedTokens).toBeLessThanOrEqual(2000);
    expect(last?.executeMs).toBeLessThanOrEqual(20);
  });

  it('keeps the adaptive budget within its bounds', async () => {
    let now = 0;
    const scheduler = new BatchScheduler<Item, readonly Item[], number>({
      prepare: (items) => items,
      execute: async (items) => {
        now += 1000; // far over any target
        return items.map(() => 0);
      },
      clock: () => now,
      maxBatchTokens: 4096,
      minBatchTokens: 512,
      targetLatencyMs: 10,
    });
    await scheduler.submit([item('a', 100), item('b', 100)]);
    expect(scheduler.budget).toBe(512);
  });

  it('reports queue and execute time per call on the injected clock', async () => {
    let now = 100;
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, clock: () => now, maxBatchSize: 1, prefetch: 0 });
    const a = scheduler.submitDetailed([item('a', 1)]);
    await flush();
    now = 110;
    const b = scheduler.submitDetailed([item('b', 1)]);
    now = 150;
    await ex.release(); // a ran 100 → 150; b starts at 150
    now = 170;
    await ex.release();
    await expect(a).resolves.toMatchObject({ queueMs: 0, executeMs: 50, batches: 1 });
    await expect(b).resolves.toMatchObject({ queueMs: 40, executeMs: 20, batches: 1, results: ['r:b'] });
  });

  it('rejects only the calls of a failed batch, with INFERENCE_FAILED', async () => {
    const scheduler = new BatchScheduler<Item, readonly Item[], string>({
      prepare: (items) => items,
      execute: async (items) => {
        if (items.some((i) => i.id === 'bad')) throw new Error('kernel exploded');
        return items.map((i) => i.id);
      },
      maxBatchSize: 1,
    });
    const [ok, bad] = await Promise.allSettled([scheduler.submit([item('ok', 1)]), scheduler.submit([item('bad', 1), item('x', 1)])]);
    expect(ok).toEqual({ status: 'fulfilled', value: ['ok'] });
    expect(bad.status).toBe('rejected');
    const reason = (bad as PromiseRejectedResult).reason as unknown;
    expect(isEmbedderError(reason, 'INFERENCE_FAILED')).toBe(true);
    expect(String((reason as Error).message)).toContain('kernel exploded');
    await expect(scheduler.submit([item('after', 1)])).resolves.toEqual(['after']);
  });

  it('fails a batch whose execute returns the wrong number of results', async () => {
    const scheduler = new BatchScheduler<Item, readonly Item[], string>({ prepare: (i) => i, execute: async () => ['only one'] });
    await expect(scheduler.submit([item('a', 1), item('b', 1)])).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'INFERENCE_FAILED'));
  });

  it('rejects items without a positive token count and empty calls resolve empty', async () => {
    const { scheduler } = immediate();
    await expect(scheduler.submit([item('a', 0)])).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'INVALID_INPUT'));
    await expect(scheduler.submit([item('a', Number.NaN)])).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'INVALID_INPUT'));
    await expect(scheduler.submit([])).resolves.toEqual([]);
  });

  it('rejects invalid options with INVALID_CONFIG', () => {
    const base = { prepare: (i: readonly Item[]) => i, execute: async () => [] as string[] };
    expect(() => new BatchScheduler({ ...base, maxBatchTokens: 0 })).toThrow(/maxBatchTokens/);
    expect(() => new BatchScheduler({ ...base, maxBatchSize: 1.5 })).toThrow(/maxBatchSize/);
    expect(() => new BatchScheduler({ ...base, targetLatencyMs: -1 })).toThrow(/targetLatencyMs/);
  });

  it('close() rejects waiting calls with DISPOSED and lets the running batch finish', async () => {
    const ex = gatedExecutor();
    const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 1, prefetch: 0 });
    const running = scheduler.submit([item('a', 1)]);
    await flush();
    const waiting = scheduler.submit([item('b', 1)]);
    await flush();
    const closed = scheduler.close();
    await expect(waiting).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'DISPOSED'));
    await ex.release();
    await closed;
    await expect(running).resolves.toEqual(['r:a']);
    await expect(scheduler.submit([item('c', 1)])).rejects.toSatisfy((e: unknown) => isEmbedderError(e, 'DISPOSED'));
  });

  it('reports batches to onBatch and counts them in stats', async () => {
    const events: BatchRunEvent[] = [];
    const { scheduler } = immediate({ maxBatchTokens: 20, maxBatchSize: 8, onBatch: (e) => events.push(e) });
    await scheduler.submit([item('a', 10), item('b', 4), item('c', 10)]);
    expect(events.map((e) => [e.size, e.paddedTokens, e.tokens])).toEqual([
      [2, 20, 20],
      [1, 4, 4],
    ]);
    expect(scheduler.stats()).toMatchObject({ batches: 2, items: 3, tokens: 24, paddedTokens: 24, queued: 0 });
  });

  describe('with concurrency', () => {
    it('keeps `concurrency` batches running, never more, and prepares the next while they run', async () => {
      const ex = gatedExecutor();
      const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 2, concurrency: 2, prefetch: 2 });
      const done = scheduler.submit(Array.from({ length: 12 }, (_, i) => item(`t${i}`, 5)));
      await flush();
      expect(ex.running()).toBe(2);
      expect(ex.prepared).toHaveLength(4);
      await ex.release();
      expect(ex.running()).toBe(2);
      while (ex.running() > 0) await ex.release();
      expect(await done).toEqual(Array.from({ length: 12 }, (_, i) => `r:t${i}`));
      expect(ex.batches.every((batch) => batch.length === 2)).toBe(true);
    });

    it('shares a call too small to fill every idle slot out by tokens, so the slots finish together', async () => {
      const ex = gatedExecutor();
      const scheduler = new BatchScheduler<Item, string[], string>({ ...ex, maxBatchSize: 32, concurrency: 2 });
      // 4 texts of 30 tokens and 24 of 5: half the 240 tokens is the 4 long ones, the other half the 24 short.
      const items = [...Array.from({ length: 4 }, (_, i) => item(`long${i}`, 30)), ...Array.from({ length: 24 }, (_, i) => item(`short${i}`, 5))];
      const done = scheduler.submit(items);
      await flush();
      expect(ex.batches).toEqual([items.slice(0, 4).map((i) => i.id), items.slice(4).map((i) => i.id)]);
      await ex.release();
      await ex.release();
      expect(await done).toEqual(items.map((i) => `r:${i.id}`));
    });

    it('fills whole batches when there is enough work for every slot', async () => {
      const { scheduler, seen } = immediate({ maxBatchSize: 8, concurrency: 2 });
      await scheduler.submit(Array.from({ length: 40 }, (_, i) => item(`t${i}`, 4)));
      expect(seen.map((batch) => batch.length)).toEqual([8, 8, 8, 8, 8]);
    });

    it('rejects a concurrency below 1 with INVALID_CONFIG', () => {
      expect(() => immediate({ concurrency: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    });
  });
});
