import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmbedderError, type SharedCacheTier } from '@embedder-rag/core';
import { freePort, startRedis, type TestRedis } from '@embedder-rag/test-fixtures';
import { decodeVector, encodeVector, HEADER_BYTES, openRedisCacheTier, type RedisCacheTierOptions } from './index';

const DIM = 384;
const vectorOf = (seed: number): Float32Array => Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 1000 + i) / (1 + i));
const keyOf = (name: string): string => name.padEnd(64, '0');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `body` with a tier opened with `options`, closing it afterwards. */
async function withTier(options: RedisCacheTierOptions, body: (tier: SharedCacheTier) => Promise<void>): Promise<void> {
  const tier = await openRedisCacheTier(options);
  try {
    await body(tier);
  } finally {
    await tier.close();
  }
}

/** Waits for the tier's own reconnect (an event of the tier, however long a busy machine takes). */
async function untilUp(tier: SharedCacheTier): Promise<void> {
  while (!tier.stats().up) await sleep(20);
}

// A real redis-server on a free loopback port; the tier is used as the facade uses it.
describe('Redis cache tier', () => {
  let redis: TestRedis;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it('stores compactly and returns the exact vectors; absent keys are misses', async () => {
    await withTier({ url: redis.url, prefix: 'rt:' }, async (tier) => {
      expect(tier.stats()).toEqual({ hits: 0, misses: 0, rejected: 0, errors: 0, up: true });
      await tier.setMany([[keyOf('a'), vectorOf(1)], [keyOf('b'), vectorOf(2)]]);
      const [a, absent, b] = await tier.getMany([keyOf('a'), keyOf('x'), keyOf('b')], DIM);
      expect(a).toEqual(vectorOf(1));
      expect(b).toEqual(vectorOf(2));
      expect(absent).toBeUndefined();
      expect(await admin.strlen(`rt:${keyOf('a')}`)).toBe(HEADER_BYTES + DIM * 4);
      expect(tier.stats()).toMatchObject({ hits: 2, misses: 1, rejected: 0, errors: 0 });
      // Without a TTL the entry stays until Redis evicts it.
      expect(await admin.pttl(`rt:${keyOf('a')}`)).toBe(-1);
    });
  });

  it('sets the TTL it is given', async () => {
    await withTier({ url: redis.url, prefix: 'ttl:', ttlMs: 3_600_000 }, async (tier) => {
      await tier.setMany([[keyOf('t'), vectorOf(3)]]);
      const ttl = await admin.pttl(`ttl:${keyOf('t')}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    });
  });

  it('reads a damaged, foreign or other-dimension value as a miss, never as a vector', async () => {
    await withTier({ url: redis.url, prefix: 'bad:' }, async (tier) => {
      const key = keyOf('victim');
      const good = encodeVector(key, vectorOf(4));
      const flipped = Buffer.from(good);
      flipped[HEADER_BYTES + 100] = flipped[HEADER_BYTES + 100]! ^ 0x01;
      const planted: Array<[string, Buffer]> = [
        ['one flipped bit in the floats', flipped],
        ['cut short', good.subarray(0, good.length - 4)],
        ['random bytes of the right length', Buffer.from(Array.from({ length: good.length }, (_, i) => (i * 7919) % 256))],
        ['another key\'s valid value', encodeVector(keyOf('other'), vectorOf(4))],
        ['a text', Buffer.from('not a vector')],
        ['another dimension', encodeVector(key, vectorOf(4).subarray(0, 256))],
      ];
      for (const [what, value] of planted) {
        await admin.set(`bad:${key}`, value);
        const [found] = await tier.getMany([key], DIM);
        expect(found, what).toBeUndefined();
      }
      expect(tier.stats()).toMatchObject({ hits: 0, misses: planted.length, rejected: planted.length, errors: 0 });
      // The good value reads back, and the decoder refuses it for another dimension.
      await admin.set(`bad:${key}`, good);
      expect((await tier.getMany([key], DIM))[0]).toEqual(vectorOf(4));
      expect(decodeVector(key, good, 256)).toBeUndefined();
    });
  });

  it('turns an outage into misses and dropped writes, reports it, and reconnects by itself', async () => {
    await withTier({ url: redis.url, prefix: 'out:' }, async (tier) => {
      await tier.setMany([[keyOf('o'), vectorOf(5)]]);
      await redis.kill();
      // Every call resolves (never throws) while Redis is gone, whether or not the tier noticed yet.
      for (let round = 0; round < 5; round++) {
        expect(await tier.getMany([keyOf('o')], DIM)).toEqual([undefined]);
        await tier.setMany([[keyOf('p'), vectorOf(6)]]);
      }
      // Each of the ten calls counted once, whether it failed on the closed socket or was skipped as down.
      expect(tier.stats()).toMatchObject({ hits: 0, misses: 5, errors: 10 });
      while (tier.stats().up) await sleep(20);
      await redis.restart();
      await untilUp(tier);
      // appendonly is off here: the restarted Redis is empty, so the old entry is a miss; new writes work again.
      expect(await tier.getMany([keyOf('o')], DIM)).toEqual([undefined]);
      await tier.setMany([[keyOf('o'), vectorOf(5)]]);
      expect(await tier.getMany([keyOf('o')], DIM)).toEqual([vectorOf(5)]);
    });
  });

  it('answers a stalled Redis with misses after its timeout instead of waiting', async () => {
    await withTier({ url: redis.url, prefix: 'stall:' }, async (tier) => {
      await tier.setMany([[keyOf('s'), vectorOf(7)]]);
      redis.process.kill('SIGSTOP');
      try {
        // A stopped Redis never answers: only the tier's own timeout ends these calls (the test would hang otherwise).
        expect(await tier.getMany([keyOf('s')], DIM)).toEqual([undefined]);
        // After a timeout the tier is paused: it reports down and the next calls are skipped, not waited for.
        expect(tier.stats()).toMatchObject({ up: false, errors: 1 });
        await tier.setMany([[keyOf('s2'), vectorOf(8)]]);
        expect(await tier.getMany([keyOf('s')], DIM)).toEqual([undefined]);
        expect(tier.stats().errors).toBe(3);
      } finally {
        redis.process.kill('SIGCONT');
      }
      await untilUp(tier);
      // The connection was kept (commandTimeout does not close it); after the pause, lookups hit again.
      let found: Float32Array | undefined;
      while (found === undefined) [found] = await tier.getMany([keyOf('s')], DIM);
      expect(found).toEqual(vectorOf(7));
    });
  });

  it('starts degraded on an unreachable Redis and picks it up once it runs', async () => {
    const port = await freePort();
    const tier = await openRedisCacheTier({ url: `redis://127.0.0.1:${port}`, prefix: 'late:' });
    try {
      expect(tier.stats().up).toBe(false);
      expect(await tier.getMany([keyOf('l')], DIM)).toEqual([undefined]);
      await tier.setMany([[keyOf('l'), vectorOf(9)]]);
      expect(tier.stats()).toMatchObject({ up: false, hits: 0, misses: 1, errors: 2 });
    } finally {
      await tier.close();
    }
    // The same with a Redis that comes up later: start one, stop it, open the tier, start it again.
    await redis.kill();
    const late = await openRedisCacheTier({ url: redis.url, prefix: 'late:' });
    try {
      expect(late.stats().up).toBe(false);
      await redis.restart();
      await untilUp(late);
      await late.setMany([[keyOf('l'), vectorOf(9)]]);
      expect(await late.getMany([keyOf('l')], DIM)).toEqual([vectorOf(9)]);
    } finally {
      await late.close();
    }
  });

  it('refuses a malformed URL with INVALID_CONFIG', async () => {
    for (const url of ['localhost:6379', 'http://127.0.0.1:6379', 'redis://', 'redis://127.0.0.1:6379/x']) {
      const error = await openRedisCacheTier({ url }).catch((e: unknown) => e);
      expect(isEmbedderError(error, 'INVALID_CONFIG'), url).toBe(true);
    }
  });
});
