import { endianness } from 'node:os';
import { Redis } from 'ioredis';
import { EmbedderError, noopLogger, redisUrlProblem, type Logger, type SharedCacheTier, type SharedCacheTierStats } from '@embedder-rag/core';
import { decodeVector, encodeVector } from './value';

/** Options of {@link openRedisCacheTier}. */
export interface RedisCacheTierOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// (TLS). */
  url: string;
  /**
   * Longest a lookup or a write may take, in ms; after it the lookup is a miss and the write is dropped (counted in
   * errors). Bounds what an outage or a stalled Redis can add to a request. @default 250
   */
  timeoutMs?: number;
  /** Entry lifetime in ms (Redis expires it); undefined = kept until Redis evicts it (set a maxmemory policy). */
  ttlMs?: number;
  /** Prefix of every key. @default 'embedder:cache:' */
  prefix?: string;
  /** Longest openRedisCacheTier waits for the first connection before it starts down (and keeps connecting). @default 2000 */
  connectTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_TIER_TIMEOUT_MS = 250;
const DEFAULT_PREFIX = 'embedder:cache:';

/** The URL without user or password, for logs. */
function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/** Settles with `promise`, or rejects after `ms` (a stalled Redis must not hold a request). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // The late answer (or failure) of a command given up on is dropped, not left as an unhandled rejection.
  promise.catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a shared cache tier on Redis. Resolves once connected, or after connectTimeoutMs (or the first refused
 * connection) with the tier down: an unreachable Redis at start is a degraded start (logged, `up` false, lookups
 * are misses), never a failed one, and the connection is retried in the background (every 100 ms growing to 2 s) for
 * as long as the tier is open. A malformed URL is INVALID_CONFIG.
 */
export async function openRedisCacheTier(options: RedisCacheTierOptions): Promise<SharedCacheTier> {
  const problem = redisUrlProblem(options.url);
  if (problem !== undefined) throw new EmbedderError('INVALID_CONFIG', `cache Redis URL ${problem}`, { details: { setting: 'cacheRedisUrl' } });
  if (endianness() !== 'LE') throw new EmbedderError('UNSUPPORTED', 'the Redis cache tier stores little-endian floats; this host is big-endian');
  const logger = options.logger ?? noopLogger;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIER_TIMEOUT_MS;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const ttlMs = options.ttlMs === undefined ? undefined : Math.max(1, Math.round(options.ttlMs));
  const where = displayUrl(options.url);
  const client = new Redis(options.url, {
    // Commands fail at once while disconnected instead of queueing until Redis is back.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  });
  const counters = { hits: 0, misses: 0, rejected: 0, errors: 0 };
  let reported: 'up' | 'down' | undefined;
  const report = (state: 'up' | 'down', reason?: string): void => {
    if (reported === state) return;
    if (state === 'up') logger.info('shared cache tier connected', { redis: where });
    else logger.warn('shared cache tier unreachable: lookups are misses and writes are dropped until it is back', { redis: where, ...(reason === undefined ? {} : { reason }) });
    reported = state;
  };
  client.on('ready', () => report('up'));
  const isUp = (): boolean => client.status === 'ready';
  client.on('error', (error: NodeJS.ErrnoException) => {
    if (!isUp()) report('down', error.code ?? error.message);
  });
  client.on('close', () => report('down', 'connection closed'));

  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, options.connectTimeoutMs ?? 2000);
    function done(): void {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    }
    client.once('ready', done);
    client.once('error', done);
  });
  if (!isUp()) report('down', 'not connected at start');

  // A Redis that is connected but does not answer (stalled, overloaded, a network black hole) would cost every request
  // the full timeout until the socket dies. After a timeout the tier is skipped (misses at once) for a pause that
  // doubles while it keeps timing out (1 s up to 16 s); the first call after the pause probes it again.
  let pausedUntil = 0;
  let pauseMs = 0;
  const usable = (): boolean => isUp() && performance.now() >= pausedUntil;
  const failed = (error: unknown): void => {
    counters.errors++;
    const reason = error instanceof Error ? error.message : String(error);
    if (/timed out|no answer within/.test(reason)) {
      pauseMs = Math.min(Math.max(pauseMs * 2, 1000), 16_000);
      pausedUntil = performance.now() + pauseMs;
      logger.warn('shared cache tier did not answer in time: skipped for a while (lookups are misses)', { redis: where, timeoutMs, pauseMs });
    }
    logger.debug('shared cache tier command failed', { redis: where, reason });
  };
  const answered = (): void => {
    pauseMs = 0;
  };

  return {
    async getMany(keys, dimension) {
      const found = new Array<Float32Array | undefined>(keys.length).fill(undefined);
      if (keys.length === 0) return found;
      if (!usable()) {
        counters.errors++;
        counters.misses += keys.length;
        return found;
      }
      let values: (Buffer | null)[];
      try {
        values = await within(client.mgetBuffer(keys.map((key) => prefix + key)), timeoutMs);
      } catch (error) {
        failed(error);
        counters.misses += keys.length;
        return found;
      }
      answered();
      keys.forEach((key, index) => {
        const value = values[index];
        const vector = value === null || value === undefined ? undefined : decodeVector(key, value, dimension);
        if (value !== null && value !== undefined && vector === undefined) counters.rejected++;
        if (vector === undefined) counters.misses++;
        else counters.hits++;
        found[index] = vector;
      });
      return found;
    },
    async setMany(entries) {
      if (entries.length === 0) return;
      if (!usable()) {
        counters.errors++;
        return;
      }
      const pipeline = client.pipeline();
      for (const [key, vector] of entries) {
        if (ttlMs === undefined) pipeline.set(prefix + key, encodeVector(key, vector));
        else pipeline.set(prefix + key, encodeVector(key, vector), 'PX', ttlMs);
      }
      try {
        const results = await within(pipeline.exec(), timeoutMs);
        const error = results?.find(([commandError]) => commandError !== null)?.[0];
        if (error) failed(error);
        else answered();
      } catch (error) {
        failed(error);
      }
    },
    stats: (): SharedCacheTierStats => ({ ...counters, up: usable() }),
    async close() {
      client.disconnect();
    },
  };
}
