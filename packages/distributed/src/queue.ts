import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { EmbedderError, isEmbedderError } from '@embedder-rag/core';
import { openRedis, probeQueue, redisOptions, type QueueAddress } from './connection';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, queueKeys, type QueueKeys } from './keys';
import { assertSameModel, type ModelIdentity } from './model';
import { ResultSink } from './sink';
import type { JobData } from './plan';

/** Which queue, on which Redis. */
export interface QueueTarget {
  address: QueueAddress;
  /** @default 'embedder' */
  queueName?: string;
  /** BullMQ key prefix. @default 'bull' */
  prefix?: string;
  /** Bound on the first connection. @default 5000 */
  connectTimeoutMs?: number;
}

/** Retries of a failing job: attempts in all, exponential backoff from `backoffMs`. */
export interface RetryPolicy {
  /** @default 3 */
  attempts?: number;
  /** @default 500 */
  backoffMs?: number;
}

/** Options every job is added with (producer and worker alike, so a chunk split off a job keeps the same policy). */
export function jobOptions(retry: RetryPolicy = {}): JobsOptions {
  return {
    attempts: retry.attempts ?? 3,
    backoff: { type: 'exponential', delay: retry.backoffMs ?? 500 },
    // A completed job's chunks are in the sink; keeping the job would keep its texts in Redis for nothing.
    removeOnComplete: true,
    // A failed job stays, with its error, for `queue status` and the producer.
    removeOnFail: false,
  };
}

/** The connections of one process to one queue: BullMQ's Queue, a client for the sink, the keys. */
export interface QueueConnection {
  readonly name: string;
  readonly prefix: string;
  readonly keys: QueueKeys;
  readonly redis: Redis;
  readonly queue: Queue<JobData>;
  readonly sink: ResultSink;
  /** Options BullMQ opens its own connections with (a Worker needs blocking ones of its own). */
  readonly connection: ConnectionOptions;
  close(): Promise<void>;
}

/** Checks the queue answers (QUEUE_UNAVAILABLE after a bounded wait otherwise), then opens the connections. */
export async function connectQueue(target: QueueTarget): Promise<QueueConnection> {
  await probeQueue(target.address, target.connectTimeoutMs);
  const name = target.queueName ?? DEFAULT_QUEUE_NAME;
  const prefix = target.prefix ?? DEFAULT_PREFIX;
  const keys = queueKeys(name, prefix);
  const connection = redisOptions(target.address) as ConnectionOptions;
  const redis = openRedis(target.address);
  const queue: Queue<JobData> = new Queue(name, { connection, prefix });
  queue.on('error', () => {});
  return {
    name,
    prefix,
    keys,
    redis,
    queue,
    sink: new ResultSink(redis, keys),
    connection,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** The model the queue serves, or undefined when no producer recorded one yet. */
export async function recordedModel(queue: QueueConnection): Promise<ModelIdentity | undefined> {
  const json = await queue.redis.get(queue.keys.model);
  return json === null ? undefined : (JSON.parse(json) as ModelIdentity);
}

/**
 * Records `identity` as the queue's model if it has none (SET NX, so two producers racing agree on the first), then
 * checks it: MODEL_MISMATCH if the queue serves another model.
 */
export async function claimModel(queue: QueueConnection, identity: ModelIdentity): Promise<void> {
  await queue.redis.set(queue.keys.model, JSON.stringify(identity), 'NX');
  const recorded = await recordedModel(queue);
  if (recorded !== undefined) assertSameModel(queue.name, recorded, identity);
}

/** Turns a Redis failure into QUEUE_UNAVAILABLE; keeps an EmbedderError as it is. */
export function queueFailure(error: unknown, queue: string, doing: string): EmbedderError {
  if (isEmbedderError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EmbedderError('QUEUE_UNAVAILABLE', `queue '${queue}': ${doing} failed: ${reason}`, { cause: error, details: { queue } });
}
