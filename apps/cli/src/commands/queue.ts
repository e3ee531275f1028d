import { queueTarget, type QueueFlags } from './queue-flags';

/** `embedder queue status`: the queue's jobs, results, counters and failed jobs (with errors), as one JSON object. */
export async function runQueueStatus(flags: QueueFlags): Promise<void> {
  const target = await queueTarget(flags);
  const { queueStatus } = await import('@embedder-rag/distributed');
  process.stdout.write(`${JSON.stringify(await queueStatus(target), null, 2)}\n`);
}

/** `embedder queue drain`: removes the jobs not started yet; running jobs and results stay. */
export async function runQueueDrain(flags: QueueFlags): Promise<void> {
  const target = await queueTarget(flags);
  const { drainQueue } = await import('@embedder-rag/distributed');
  await drainQueue(target);
}

/** `embedder queue clean`: deletes every job, the results and the recorded model (refused while jobs run, unless --force). */
export async function runQueueClean(flags: QueueFlags & { force?: boolean }): Promise<void> {
  const target = await queueTarget(flags);
  const { cleanQueue } = await import('@embedder-rag/distributed');
  await cleanQueue(target, { force: flags.force === true });
}
