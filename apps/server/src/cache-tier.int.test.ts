import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmbedderError } from '@embedder-rag/core';
import { decodeVector } from '@embedder-rag/cache-redis';
import { EmbeddingGenerator } from '@embedder-rag/embedder';
import { cosine, freePort, modelRoot, repoRoot, sharedFile, startRedis, type TestRedis } from '@embedder-rag/test-fixtures';
import { parseServerConfig, type ConfigSources } from './config';
import type { RunningServer } from './server';
import { call, spawnServer, startTestServer } from './test-helpers';

const texts = readFileSync(sharedFile('data/bench/short.txt'), 'utf8').split('\n').filter((line) => line.trim() !== '').slice(0, 50);
const PREFIX = 'embedder:cache:';

/** The value of a shared-tier metric (one model served, so one series), or undefined when the server has none. */
function tierMetric(metrics: string, name: string): number | undefined {
  const match = metrics.match(new RegExp(`^embedder_cache_tier_${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'm'));
  return match === null ? undefined : Number(match[1]);
}
const metricsOf = async (base: string): Promise<string> => (await call(base, 'GET', '/metrics')).text;
const embedOne = async (base: string, text: string): Promise<{ status: number; vector: number[] }> => {
  const answer = await call<number[][]>(base, 'POST', '/embed', { inputs: text });
  return { status: answer.status, vector: answer.status === 200 ? answer.body[0]! : [] };
};

/**
 * Stats reach /metrics with the model's answers, so this asks for cheap answers (/tokenize) until the tier reports
 * `up`: it waits for the tier's own (re)connection, however long a busy machine takes, never for a fixed time.
 */
async function untilTier(base: string, up: 0 | 1): Promise<string> {
  for (;;) {
    await call(base, 'POST', '/tokenize', { inputs: 'ping' });
    const metrics = await metricsOf(base);
    if (tierMetric(metrics, 'up') === up) return metrics;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Two real servers (each with its model in its own worker thread) share one real redis-server.
describe('shared cache tier on Redis', () => {
  let redis: TestRedis;
  let admin: Redis;
  let a: RunningServer;
  let b: RunningServer;
  const reference = new Map<string, Float32Array>();
  const expectCorrect = (text: string, vector: number[]): void => {
    expect(vector).toHaveLength(384);
    expect(cosine(vector, Array.from(reference.get(text)!)), text).toBeGreaterThanOrEqual(0.999999);
  };

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    admin.on('error', () => undefined);
    // A generous timeout: here a busy machine must not turn a lookup into a miss (the tier test covers timeouts).
    const env = { EMBEDDER_CACHE_REDIS_URL: redis.url, EMBEDDER_CACHE_REDIS_TIMEOUT_MS: '10000' };
    // A has the in-memory cache in front of Redis; B has none, so every lookup of B goes to Redis.
    a = await startTestServer({}, env);
    b = await startTestServer({}, { ...env, EMBEDDER_CACHE_SIZE: '0' });
    const generator = await EmbeddingGenerator.create({ modelPath: modelRoot(), cacheSize: 0 });
    try {
      for (const text of texts) reference.set(text, (await generator.embed([text]))[0]!);
    } finally {
      await generator.dispose();
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it('a text embedded through server A is a hit on server B, with the identical vector', async () => {
    await untilTier(a.url, 1);
    const before = await untilTier(b.url, 1);
    const text = texts[0]!;
    const fromA = await embedOne(a.url, text);
    expect(fromA.status).toBe(200);
    expectCorrect(text, fromA.vector);
    expect(await admin.keys(`${PREFIX}*`)).toHaveLength(1);

    const fromB = await embedOne(b.url, text);
    expect(fromB.status).toBe(200);
    expect(fromB.vector).toEqual(fromA.vector);
    const after = await metricsOf(b.url);
    expect(tierMetric(after, 'hits_total')! - tierMetric(before, 'hits_total')!).toBe(1);
    expect(tierMetric(after, 'misses_total')).toBe(tierMetric(before, 'misses_total'));
    // B ran no inference for it.
    const batches = (metrics: string) => Number(/^embedder_batches_total\{[^}]*\} (\d+)$/m.exec(metrics)![1]);
    expect(batches(after)).toBe(batches(before));
  });

  it('a damaged or foreign value in Redis reads as a miss: the right vector is computed and written back', async () => {
    const known = new Set(await admin.keys(`${PREFIX}*`));
    const victimText = texts[1]!;
    const fromA = await embedOne(a.url, victimText);
    const victim = (await admin.keys(`${PREFIX}*`)).find((key) => !known.has(key))!;
    const good = (await admin.getBuffer(victim))!;
    const other = (await admin.getBuffer([...known][0]!))!;
    // The sign bit of component 10 (after the 16-byte header): accepted, it would turn the vector visibly wrong.
    const flipped = Buffer.from(good);
    flipped[16 + 4 * 10 + 3] = flipped[16 + 4 * 10 + 3]! ^ 0x80;
    const planted: Array<[string, Buffer]> = [
      ['a flipped bit', flipped],
      ["another key's valid value", other],
      ['cut short', good.subarray(0, 100)],
      ['a text', Buffer.from('garbage')],
    ];
    for (const [what, value] of planted) {
      await admin.set(victim, value);
      const before = await metricsOf(b.url);
      const fromB = await embedOne(b.url, victimText);
      expect(fromB.status, what).toBe(200);
      expectCorrect(victimText, fromB.vector);
      expect(cosine(fromB.vector, fromA.vector), what).toBeGreaterThanOrEqual(0.999999);
      const after = await metricsOf(b.url);
      expect(tierMetric(after, 'rejected_total')! - tierMetric(before, 'rejected_total')!, what).toBe(1);
      // B computed it and wrote a valid value back over the damaged one.
      const key = victim.slice(PREFIX.length);
      // JSON carries the shortest decimals of the float32 values: as float32, the same vector.
      expect(decodeVector(key, (await admin.getBuffer(victim))!, 384)!, what).toEqual(Float32Array.from(fromB.vector));
    }
  });

  it('Redis SIGKILLed mid-traffic: every request still 200 with correct vectors; /metrics shows it; it recovers', async () => {
    const before = await metricsOf(b.url);
    let sent = 0;
    const round = async (from: number, count: number) => {
      const picks = Array.from({ length: count }, (_, i) => texts[(from + i * 5) % 40]!);
      const answers = await Promise.all(picks.flatMap((text) => [a.url, b.url].map(async (base) => ({ text, ...(await embedOne(base, text)) }))));
      sent += answers.length;
      for (const answer of answers) {
        expect(answer.status, answer.text).toBe(200);
        expectCorrect(answer.text, answer.vector);
      }
    };
    await round(2, 6);
    // The kill lands while a round is in flight.
    await Promise.all([round(8, 6), redis.kill()]);
    for (let i = 0; i < 4; i++) await round(14 + i * 6, 6);
    const down = await untilTier(b.url, 0);
    expect(tierMetric(down, 'errors_total')!).toBeGreaterThan(tierMetric(before, 'errors_total')!);
    expect(tierMetric(await untilTier(a.url, 0), 'up')).toBe(0);
    expect(sent).toBe(72);

    await redis.restart();
    await untilTier(a.url, 1);
    const recovered = await untilTier(b.url, 1);
    // After the restart (no appendonly: Redis came back empty) sharing works again: A computes, B hits (a text
    // neither has seen: the rounds use the first 40).
    const text = texts[45]!;
    const fromA = await embedOne(a.url, text);
    const fromB = await embedOne(b.url, text);
    expect(fromB.vector).toEqual(fromA.vector);
    expectCorrect(text, fromB.vector);
    expect(tierMetric(await metricsOf(b.url), 'hits_total')! - tierMetric(recovered, 'hits_total')!).toBe(1);
  });

  it('an unreachable Redis at start is a degraded start: it serves, and /metrics says the tier is down', async () => {
    const port = await freePort();
    const lonely = await startTestServer({}, { EMBEDDER_CACHE_REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const answer = await embedOne(lonely.url, texts[3]!);
      expect(answer.status).toBe(200);
      expectCorrect(texts[3]!, answer.vector);
      const metrics = await untilTier(lonely.url, 0);
      expect(tierMetric(metrics, 'errors_total')!).toBeGreaterThanOrEqual(1);
      expect(tierMetric(metrics, 'hits_total')).toBe(0);
    } finally {
      await lonely.close();
    }
  });

  it('the built server: an unreachable Redis is logged as a degraded start; a malformed URL exits 2 with one line', async () => {
    const main = join(repoRoot, 'apps/server/dist/main.js');
    const degraded = await spawnServer(main, { EMBEDDER_CACHE_REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      const warning = degraded.output.find((line) => line.includes('shared cache tier unreachable'));
      expect(warning, degraded.output.join('\n')).toMatch(/"level":40/);
      expect((await embedOne(degraded.url, texts[4]!)).status).toBe(200);
    } finally {
      degraded.child.kill('SIGTERM');
      await degraded.exited;
    }
    const failure = await spawnServer(main, { EMBEDDER_CACHE_REDIS_URL: 'http://127.0.0.1:6379' }).then(
      (server) => {
        server.child.kill('SIGKILL');
        return undefined;
      },
      (caught: unknown) => caught as Error,
    );
    expect(failure?.message).toMatch(/server exited \(2\) before ready/);
    expect(failure!.message.trim().split('\n').at(-1)).toBe("embedder-server: INVALID_CONFIG: EMBEDDER_CACHE_REDIS_URL must use redis:// or rediss://, got 'http:' in 'http://127.0.0.1:6379'");
  });

  it('a malformed URL stops the start with INVALID_CONFIG naming the variable or the flag', () => {
    const cases: Array<[ConfigSources, string]> = [
      [{ env: { EMBEDDER_CACHE_REDIS_URL: 'localhost:6379' } }, 'EMBEDDER_CACHE_REDIS_URL'],
      [{ env: {}, argv: ['--cache-redis-url', 'http://127.0.0.1:6379'] }, '--cache-redis-url'],
    ];
    for (const [sources, named] of cases) {
      const error = (() => {
        try {
          parseServerConfig(sources);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(isEmbedderError(error, 'INVALID_CONFIG')).toBe(true);
      expect((error as Error).message).toContain(named);
    }
  });
});
