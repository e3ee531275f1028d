export { parseQueueUrl, probeQueue, DEFAULT_CONNECT_TIMEOUT_MS, type QueueAddress } from './connection';
export { DEFAULT_QUEUE_NAME, DEFAULT_PREFIX } from './keys';
export {
  chunkKey,
  identityOf,
  identityDigest,
  describeIdentity,
  assertSameModel,
  type ModelIdentity,
  type EmbeddingEngine,
} from './model';
export { planJobs, jobIdOf, chunkJobId, DEFAULT_JOB_TOKENS, DEFAULT_JOB_CHUNKS, type JobBudget, type JobData, type PlannedJob } from './plan';
export { type QueueTarget, type RetryPolicy } from './queue';
export { type QueueCounters } from './sink';
export { startWorker, type WorkerOptions, type EmbeddingWorker, type JobEvent } from './worker';
export { runDistributed, type RunOptions, type RunResult, type RunProgress, type FailedChunk } from './producer';
export { runDistributedStream, DEFAULT_SEGMENT_SIZE, type StreamRunOptions } from './segments';
export { queueStatus, drainQueue, cleanQueue, type QueueStatus } from './admin';
export { WorkerMetrics } from './metrics';
