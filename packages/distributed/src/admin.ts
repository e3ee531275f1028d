import { connectQueue, recordedModel, type QueueTarget } from './queue';
import type { ModelIdentity } from './model';
import { readCounters, type QueueCounters } from './sink';

/** What `embedder queue status` shows. */
export interface QueueStatus {
  queue: string;
  model?: ModelIdentity;
  jobs: { waiting: number; active: number; delayed: number; failed: number; prioritized: number };
  /** Vectors in the sink. */
  results: number;
  counters: QueueCounters;
  /** The failed jobs (up to 100), with their errors. */
  failures: Array<{ job: string; chunks: number; attempts: number; error: string }>;
}

/** Reads the state of a queue. */
export async function queueStatus(target: QueueTarget): Promise<QueueStatus> {
  const queue = await connectQueue(target);
  try {
    const counts = await queue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    const failedJobs = await queue.queue.getFailed(0, 99);
    const model = await recordedModel(queue);
    return {
      queue: queue.name,
      ...(model === undefined ? {} : { model }),
      jobs: {
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        prioritized: counts.prioritized ?? 0,
      },
      results: await queue.sink.size(),
      counters: await readCounters(queue.redis, queue.keys.stats),
      failures: failedJobs.map((job) => ({
        job: String(job.id),
        chunks: Array.isArray(job.data?.keys) ? job.data.keys.length : 0,
        attempts: job.attemptsMade,
        error: job.failedReason,
      })),
    };
  } finally {
    await queue.close();
  }
}

/** Removes the jobs not started yet (waiting, delayed); running jobs finish, results stay. */
export async function drainQueue(target: QueueTarget): Promise<void> {
  const queue = await connectQueue(target);
  try {
    await queue.queue.drain(true);
  } finally {
    await queue.close();
  }
}

/**
 * Deletes the queue: every job (failed ones included), the results, the counters and the recorded model, so the
 * queue can serve another model. Refuses while jobs are active unless `force`.
 */
export async function cleanQueue(target: QueueTarget, options: { force?: boolean } = {}): Promise<void> {
  const queue = await connectQueue(target);
  try {
    await queue.queue.obliterate({ force: options.force === true });
    await queue.redis.del(queue.keys.results, queue.keys.stats, queue.keys.model);
  } finally {
    await queue.close();
  }
}
