import { WaitingError, Worker, type Job } from 'bullmq';
import { EmbedderError, isEmbedderError, type Logger } from '@embedder-rag/core';
import { chunkJobId, type JobData } from './plan';
import { assertSameModel, describeIdentity, identityDigest, identityOf, type EmbeddingEngine } from './model';
import { connectQueue, jobOptions, recordedModel, type QueueConnection, type QueueTarget, type RetryPolicy } from './queue';
import { addCounters } from './sink';

/** What a worker reports after each job (the CLI turns these into Prometheus metrics). */
export interface JobEvent {
  outcome: 'completed' | 'failed' | 'split';
  /** Chunks in the job. */
  chunks: number;
  /** Chunks that went through inference in this run of the job. */
  embedded: number;
  /** Seconds the job took. */
  seconds: number;
  /** Of those, seconds spent on Redis (sink lookups and writes, counters, split-off jobs): the queue's own cost. */
  redisSeconds: number;
}

/** Options of {@link startWorker}. */
export interface WorkerOptions extends QueueTarget {
  engine: EmbeddingEngine;
  /** Jobs run at once; the generator batches their chunks together. @default 1 */
  concurrency?: number;
  /**
   * How often a worker checks for jobs whose worker died (their lock expired), in ms. BullMQ's default is 30 s; a
   * short one recovers faster at the price of a few Redis calls per interval. @default 30000
   */
  stalledIntervalMs?: number;
  /** How long a job's lock lives without renewal (renewed every half of it while the job runs). @default 30000 */
  lockDurationMs?: number;
  /** Retry policy of chunks split off a failing job. */
  retry?: RetryPolicy;
  logger?: Logger;
  onJob?: (event: JobEvent) => void;
  /** Called once when the worker must stop (a job for another model): the caller closes it and exits non-zero. */
  onFatal?: (error: EmbedderError) => void;
}

/** A running worker. */
export interface EmbeddingWorker {
  readonly queue: QueueConnection;
  /** Waits for the jobs in progress to finish, then disconnects (graceful shutdown). */
  close(): Promise<void>;
}

/** Reads a job's payload; a malformed one fails the job for good (retrying cannot fix it). */
function readJob(job: Job<JobData>): JobData {
  const data = job.data as Partial<JobData> | undefined;
  if (
    data === undefined ||
    typeof data.model !== 'string' ||
    !Array.isArray(data.keys) ||
    !Array.isArray(data.texts) ||
    data.keys.length !== data.texts.length ||
    data.keys.length === 0 ||
    (data.prompt !== undefined && typeof data.prompt !== 'string')
  ) {
    throw new EmbedderError('INVALID_INPUT', `job ${job.id} is not an embedder job (model, keys and texts of equal length, a string prompt)`);
  }
  return data as JobData;
}

/** The error text a failed job keeps: code first, so `queue status` and the producer can show it as it was. */
function failureText(error: unknown): string {
  if (isEmbedderError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts a BullMQ worker that embeds jobs with `engine`. Refuses (MODEL_MISMATCH) a queue recorded for another model,
 * and never embeds a job of another model: such a job goes back to the waiting list for a worker that serves it.
 * Per job: chunks already in the sink are skipped, the rest embedded in one call and inserted (HSETNX). When the call
 * fails, each chunk is embedded alone; chunks that fail alone move to single-chunk jobs of their own, which retry with
 * backoff and end in the failed set with their error, so a poisoned chunk fails alone.
 */
export async function startWorker(options: WorkerOptions): Promise<EmbeddingWorker> {
  const identity = identityOf(options.engine);
  const digest = identityDigest(identity);
  const queue = await connectQueue(options);
  try {
    const recorded = await recordedModel(queue);
    if (recorded !== undefined) assertSameModel(queue.name, recorded, identity);
  } catch (error) {
    await queue.close();
    throw error;
  }
  const logger = options.logger;
  let fatal = false;

  // A job's prompt as the producer resolved it; a job without one (older producers) gets the model's default.
  const embedChunks = async (texts: string[], prompt: string | undefined): Promise<Float32Array[]> =>
    options.engine.embed(texts, prompt === undefined ? undefined : { prompt });

  const processor = async (job: Job<JobData>, token?: string): Promise<{ embedded: number; split: number }> => {
    const started = performance.now();
    const data = readJob(job);
    if (data.model !== digest) {
      // Another model's job: hand it back untouched and stop taking jobs (never mix vectors).
      await job.moveToWait(token);
      if (!fatal) {
        fatal = true;
        const recordedNow = await recordedModel(queue).catch(() => undefined);
        options.onFatal?.(
          new EmbedderError(
            'MODEL_MISMATCH',
            `queue '${queue.name}' has a job for ${recordedNow ? describeIdentity(recordedNow) : `model digest ${data.model}`}, but this worker serves ${describeIdentity(identity)}`,
            { details: { queue: queue.name, job: job.id, served: identity, ...(recordedNow ? { recorded: recordedNow } : {}) } },
          ),
        );
      }
      throw new WaitingError();
    }
    let redisMs = 0;
    const timed = async <T>(work: Promise<T>): Promise<T> => {
      const at = performance.now();
      try {
        return await work;
      } finally {
        redisMs += performance.now() - at;
      }
    };
    const present = await timed(queue.sink.has(data.keys));
    const todo = data.keys.flatMap((key, index) => (present[index] ? [] : [index]));
    let embedded = 0;
    const failed: number[] = [];
    if (todo.length > 0) {
      const texts = todo.map((index) => data.texts[index]!);
      try {
        const vectors = await embedChunks(texts, data.prompt);
        embedded = todo.length;
        const written = await timed(queue.sink.insert(todo.map((index, i) => [data.keys[index]!, vectors[i]!] as const)));
        await timed(addCounters(queue.redis, queue.keys.stats, { chunksEmbedded: embedded, chunksWritten: written }));
      } catch (error) {
        if (data.keys.length === 1) {
          options.onJob?.({ outcome: 'failed', chunks: 1, embedded: 0, seconds: (performance.now() - started) / 1000, redisSeconds: redisMs / 1000 });
          throw new Error(failureText(error));
        }
        logger?.warn('job failed as a whole: embedding its chunks one by one', { job: job.id, error: failureText(error) });
        for (const index of todo) {
          try {
            const [vector] = await embedChunks([data.texts[index]!], data.prompt);
            embedded++;
            const written = await timed(queue.sink.insert([[data.keys[index]!, vector!]]));
            await timed(addCounters(queue.redis, queue.keys.stats, { chunksEmbedded: 1, chunksWritten: written }));
          } catch {
            failed.push(index);
          }
        }
      }
    }
    // Single-chunk jobs for the chunks that failed alone; their ids derive from the chunk, so a rerun adds nothing.
    for (const index of failed) {
      const key = data.keys[index]!;
      const chunk: JobData = { model: data.model, keys: [key], texts: [data.texts[index]!], ...(data.prompt === undefined ? {} : { prompt: data.prompt }) };
      await timed(queue.queue.add('chunk', chunk, { ...jobOptions(options.retry), jobId: chunkJobId(key) }));
    }
    await timed(addCounters(queue.redis, queue.keys.stats, { jobsRun: 1, chunksSkipped: data.keys.length - todo.length }));
    const outcome = failed.length > 0 ? 'split' : 'completed';
    options.onJob?.({ outcome, chunks: data.keys.length, embedded, seconds: (performance.now() - started) / 1000, redisSeconds: redisMs / 1000 });
    return { embedded, split: failed.length };
  };

  const worker = new Worker<JobData>(queue.name, processor, {
    connection: queue.connection,
    prefix: queue.prefix,
    concurrency: options.concurrency ?? 1,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    lockDuration: options.lockDurationMs ?? 30_000,
    // A job whose worker died is recovered however often that happens; only its own errors count as attempts.
    maxStalledCount: 1000,
  });
  worker.on('error', (error) => logger?.warn('worker connection error', { error: error.message }));
  worker.on('failed', (job, error) => {
    if (job && !(error instanceof WaitingError)) logger?.warn('job failed', { job: job.id, attempt: job.attemptsMade, error: error.message });
  });
  logger?.info('worker ready', { queue: queue.name, model: describeIdentity(identity), concurrency: options.concurrency ?? 1 });
  return {
    queue,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

