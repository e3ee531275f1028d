/** BullMQ's default key prefix; every key of the distributed mode lives under `${prefix}:${queue}:`. */
export const DEFAULT_PREFIX = 'bull';
/** The queue name when none is given. */
export const DEFAULT_QUEUE_NAME = 'embedder';

/** Redis keys the distributed mode keeps beside BullMQ's own for one queue. */
export interface QueueKeys {
  /** JSON of the ModelIdentity the queue serves (SET NX by the first producer). */
  model: string;
  /** Hash chunk key → Float32 vector bytes (HSETNX: the first result of a chunk stays). */
  results: string;
  /** Hash of counters: jobs run, chunks embedded, chunks skipped as already present. */
  stats: string;
}

export function queueKeys(queueName: string, prefix = DEFAULT_PREFIX): QueueKeys {
  const base = `${prefix}:${queueName}:embedder`;
  return { model: `${base}:model`, results: `${base}:results`, stats: `${base}:stats` };
}
