import { Redis, type RedisOptions } from 'ioredis';
import { EmbedderError } from '@embedder-rag/core';

/** Where the queue lives: parsed from `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without its password, for logs and errors. */
  display: string;
}

/**
 * Parses a queue URL. A malformed one is INVALID_CONFIG naming what is wrong, before any connection is tried.
 */
export function parseQueueUrl(url: string): QueueAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EmbedderError('INVALID_CONFIG', `--queue must be a URL like redis://127.0.0.1:6379, got '${url}'`, { details: { queue: url } });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new EmbedderError('INVALID_CONFIG', `--queue must use redis:// or rediss://, got '${parsed.protocol}' in '${url}'`, { details: { queue: url } });
  }
  if (parsed.hostname === '') throw new EmbedderError('INVALID_CONFIG', `--queue has no host: '${url}'`, { details: { queue: url } });
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new EmbedderError('INVALID_CONFIG', `--queue database must be a whole number, got '${dbText}' in '${url}'`, { details: { queue: url } });
  }
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    tls: parsed.protocol === 'rediss:',
    display: `${parsed.protocol}//${parsed.hostname}:${port}${db === 0 ? '' : `/${db}`}`,
  };
}

/** How long the first connection may take before the queue counts as unreachable. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * ioredis options for long-lived connections (BullMQ's and the sink's): once a first connection worked, a lost one is
 * retried without end (a restarted Redis is picked up again), and commands wait for it rather than fail
 * (maxRetriesPerRequest null, as BullMQ's blocking connections require).
 */
export function redisOptions(address: QueueAddress): RedisOptions {
  return {
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
    ...(address.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

/**
 * Checks the queue answers within `timeoutMs`, with one connection that never retries: an unreachable or refusing
 * Redis is QUEUE_UNAVAILABLE after a bounded wait instead of a process that retries forever.
 */
export async function probeQueue(address: QueueAddress, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
  const client = new Redis({
    ...redisOptions(address),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new EmbedderError('QUEUE_UNAVAILABLE', `the queue at ${address.display} cannot be reached (${reason})`, {
      cause: error,
      details: { queue: address.display },
    });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Opens a long-lived client after {@link probeQueue} succeeded. */
export function openRedis(address: QueueAddress): Redis {
  const client = new Redis(redisOptions(address));
  // Errors of a lost connection are retried by ioredis; commands surface their own errors.
  client.on('error', () => {});
  return client;
}
