import type { Command } from 'commander';
import type { QueueTarget } from '@embedder-rag/distributed';
import { EmbedderError } from '@embedder-rag/core';
import { parseCount } from '../parse';

/** Flags naming the queue of the distributed mode. */
export interface QueueFlags {
  queue?: string;
  queueName?: string;
  connectTimeout?: number;
}

/** Adds --queue-name and --connect-timeout (--queue itself is added by each command: optional for embed). */
export function addQueueOptions(command: Command): Command {
  return command
    .option('--queue-name <name>', 'queue name on that Redis (default embedder)')
    .option('--connect-timeout <ms>', 'give up on an unreachable queue after this long (default 5000)', parseCount('--connect-timeout'));
}

/**
 * The queue a command talks to; a malformed URL is INVALID_CONFIG before anything loads. The distributed package
 * (BullMQ, ioredis) is imported here, on first use, so commands without --queue never load it.
 */
export async function queueTarget(flags: QueueFlags): Promise<QueueTarget> {
  if (flags.queue === undefined) throw new EmbedderError('INVALID_CONFIG', '--queue redis://HOST:PORT is required');
  const { parseQueueUrl } = await import('@embedder-rag/distributed');
  return {
    address: parseQueueUrl(flags.queue),
    ...(flags.queueName === undefined ? {} : { queueName: flags.queueName }),
    ...(flags.connectTimeout === undefined ? {} : { connectTimeoutMs: flags.connectTimeout }),
  };
}
