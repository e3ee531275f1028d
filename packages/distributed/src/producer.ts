import { EmbedderError, type Logger } from '@embedder-rag/core';
import { chunkKey, identityDigest, identityOf, type EmbeddingEngine } from './model';
import { chunkJobId, planJobs, type JobBudget, type JobData } from './plan';
import { claimModel, connectQueue, jobOptions, type QueueConnection, type QueueTarget, type RetryPolicy } from './queue';

/** Progress of a distributed run, in unique chunks (a text repeated in the input is one chunk). */
export interface RunProgress {
  chunksTotal: number;
  chunksDone: number;
  chunksFailed: number;
  /** Jobs not finished yet. */
  jobsPending: number;
  /** Output lines written so far (in input order). */
  written: number;
}

/** A chunk that ended in the failed set. */
export interface FailedChunk {
  /** Input positions holding this text. */
  indexes: number[];
  key: string;
  /** The job's last error (`CODE: message`). */
  error: string;
}

/** Options of {@link runDistributed}. */
export interface RunOptions extends QueueTarget {
  /** Gives the model identity and token counts; the producer never embeds. */
  engine: Pick<EmbeddingEngine, 'model' | 'settings' | 'countTokens'>;
  texts: readonly string[];
  /**
   * The text put before every text, as the facade resolves it (`generator.resolvePrompt({ promptName })`: the model's
   * default prompt when none is named; '' = none). Part of every chunk's key. @default '' (no prompt)
   */
  prompt?: string;
  /** Called once per embedded input position, in input order (failed ones are skipped). */
  write: (index: number, vector: Float32Array) => Promise<void> | void;
  budget?: JobBudget;
  retry?: RetryPolicy;
  /** How often the sink and job states are checked. @default 250 */
  pollMs?: number;
  onProgress?: (progress: RunProgress) => void;
  logger?: Logger;
}

/** What a run did. */
export interface RunResult {
  /** Input positions. */
  chunks: number;
  /** Distinct texts. */
  uniqueChunks: number;
  /** Jobs planned for the whole input. */
  jobsPlanned: number;
  /**
   * Jobs handed to the queue by this run: those whose chunks are not all in the sink yet (one still queued from an
   * earlier run is the same job, and adding it again adds nothing).
   */
  jobsSubmitted: number;
  /** Chunks found in the sink when the run started (embedded by an earlier run). */
  chunksAlreadyDone: number;
  failed: FailedChunk[];
  written: number;
}

interface PendingJob {
  id: string;
  data: JobData;
}

/**
 * The producer and collector of the distributed mode: plans jobs of chunks by tokens (ids derived from their chunks),
 * submits those whose chunks are not all in the sink yet, waits for the sink to hold every chunk (or for the chunk's
 * job to fail for good), and hands the vectors to `write` in input order. Interrupted and run again, it skips what the
 * sink already holds, so nothing is embedded twice; jobs still queued from the first run are not added again.
 */
export async function runDistributed(options: RunOptions): Promise<RunResult> {
  const identity = identityOf(options.engine);
  const digest = identityDigest(identity);
  const queue = await connectQueue(options);
  try {
    await claimModel(queue, identity);
    return await produceAndCollect(queue, digest, options);
  } finally {
    await queue.close();
  }
}

async function produceAndCollect(queue: QueueConnection, digest: string, options: RunOptions): Promise<RunResult> {
  const { texts } = options;
  const identity = identityOf(options.engine);
  const prompt = options.prompt ?? '';
  const keys = texts.map((text) => chunkKey(identity, text, prompt));
  const tokens = await countTokens(options.engine, texts, prompt);
  const jobs = planJobs(digest, keys.map((key, i) => ({ key, text: texts[i]!, tokens: tokens[i]! })), options.budget, prompt);
  const uniqueKeys = jobs.flatMap((job) => job.data.keys);

  const done = new Set<string>();
  const present = await queue.sink.has(uniqueKeys);
  uniqueKeys.forEach((key, i) => present[i] && done.add(key));
  const chunksAlreadyDone = done.size;

  const pending = new Map<string, PendingJob>();
  const toAdd: PendingJob[] = [];
  for (const job of jobs) {
    if (job.data.keys.every((key) => done.has(key))) continue;
    pending.set(job.id, { id: job.id, data: job.data });
    toAdd.push({ id: job.id, data: job.data });
  }
  // A job (or a chunk's own job) that failed for good in an earlier run is retried now (its id would make add() a no-op).
  await Promise.all(toAdd.map(async (job) => reviveFailed(queue, job.id)));
  await Promise.all(
    toAdd.flatMap((job) => job.data.keys.filter((key) => !done.has(key)).map(async (key) => reviveFailed(queue, chunkJobId(key)))),
  );
  await queue.queue.addBulk(toAdd.map((job) => ({ name: 'embed', data: job.data, opts: { ...jobOptions(options.retry), jobId: job.id } })));
  options.logger?.info('jobs submitted', { queue: queue.name, planned: jobs.length, submitted: toAdd.length, chunksAlreadyDone });

  const failed = new Map<string, string>();
  const positionsOf = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const list = positionsOf.get(key);
    if (list) list.push(index);
    else positionsOf.set(key, [index]);
  });
  let cursor = 0;
  let written = 0;
  const pollMs = options.pollMs ?? 250;

  const report = () =>
    options.onProgress?.({ chunksTotal: uniqueKeys.length, chunksDone: done.size, chunksFailed: failed.size, jobsPending: pending.size, written });

  // Writes every position from the cursor on whose chunk is finished (embedded, or failed and skipped).
  const flush = async () => {
    while (cursor < keys.length) {
      let end = cursor;
      while (end < keys.length && end - cursor < 1000 && (done.has(keys[end]!) || failed.has(keys[end]!))) end++;
      if (end === cursor) return;
      const slice = keys.slice(cursor, end).filter((key) => done.has(key));
      const vectors = new Map<string, Float32Array | undefined>();
      const read = await queue.sink.read(slice);
      slice.forEach((key, i) => vectors.set(key, read[i]));
      for (let index = cursor; index < end; index++) {
        const key = keys[index]!;
        if (!done.has(key)) continue;
        const vector = vectors.get(key);
        if (vector === undefined) {
          throw new EmbedderError('QUEUE_UNAVAILABLE', `queue '${queue.name}': the result of input ${index} vanished from the sink (was the queue cleaned during the run?)`);
        }
        await options.write(index, vector);
        written++;
      }
      cursor = end;
    }
  };

  report();
  await flush();
  while (pending.size > 0) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const open = [...pending.values()];
    const openKeys = [...new Set(open.flatMap((job) => job.data.keys.filter((key) => !done.has(key) && !failed.has(key))))];
    const has = await queue.sink.has(openKeys);
    openKeys.forEach((key, i) => has[i] && done.add(key));
    const unfinished = open.filter((job) => {
      const finished = job.data.keys.every((key) => done.has(key) || failed.has(key));
      if (finished) pending.delete(job.id);
      return !finished;
    });
    const states = await Promise.all(unfinished.map(async (job) => queue.queue.getJobState(job.id)));
    for (const [i, job] of unfinished.entries()) {
      const state = states[i];
      const missing = job.data.keys.filter((key) => !done.has(key) && !failed.has(key));
      if (state === 'failed') {
        const reason = (await queue.queue.getJob(job.id))?.failedReason ?? 'failed';
        for (const key of missing) failed.set(key, reason);
        pending.delete(job.id);
      } else if (state === 'unknown') {
        // Completed (and removed) with chunks still missing: they were split into single-chunk jobs. Track those;
        // add() is a no-op when they exist, and re-creates them if Redis lost them.
        pending.delete(job.id);
        for (const key of missing) {
          const id = chunkJobId(key);
          const child: PendingJob = { id, data: { model: digest, keys: [key], texts: [texts[positionsOf.get(key)![0]!]!], prompt } };
          if (id === job.id || !pending.has(id)) {
            pending.set(id, child);
            await queue.queue.add('chunk', child.data, { ...jobOptions(options.retry), jobId: id });
          }
        }
      }
    }
    await flush();
    report();
  }
  await flush();
  report();
  return {
    chunks: keys.length,
    uniqueChunks: uniqueKeys.length,
    jobsPlanned: jobs.length,
    jobsSubmitted: toAdd.length,
    chunksAlreadyDone,
    failed: [...failed.entries()].map(([key, error]) => ({ key, error, indexes: positionsOf.get(key) ?? [] })),
    written,
  };
}

/** Moves a job (or the single-chunk job of a chunk) that failed for good back to waiting. */
async function reviveFailed(queue: QueueConnection, jobId: string): Promise<void> {
  if ((await queue.queue.getJobState(jobId)) !== 'failed') return;
  const job = await queue.queue.getJob(jobId);
  await job?.retry('failed');
}

/**
 * Token counts for job sizing. A text the tokenizer refuses still gets queued (counted as 1 token): the worker's
 * generator is the one judge of what embeds, and such a chunk then fails alone in the failed set.
 */
async function countTokens(engine: Pick<EmbeddingEngine, 'countTokens'>, texts: readonly string[], prompt: string): Promise<number[]> {
  try {
    return await engine.countTokens([...texts], { prompt });
  } catch {
    const counts: number[] = [];
    for (const text of texts) {
      try {
        counts.push((await engine.countTokens([text], { prompt }))[0] ?? 1);
      } catch {
        counts.push(1);
      }
    }
    return counts;
  }
}
