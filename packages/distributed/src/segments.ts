import { runDistributed, type FailedChunk, type RunOptions, type RunProgress, type RunResult } from './producer';

/** Options of {@link runDistributedStream}: those of runDistributed, with items streamed instead of held. */
export interface StreamRunOptions<T> extends Omit<RunOptions, 'texts' | 'write' | 'onProgress'> {
  /** The input, read one segment at a time. */
  items: AsyncIterable<T> | Iterable<T>;
  textOf: (item: T) => string;
  /** Inputs planned, submitted and collected at once: what the producer holds in memory. @default 100000 */
  segmentSize?: number;
  /** Called once per embedded input position, in input order (failed ones are skipped), with its item. */
  write: (index: number, vector: Float32Array, item: T) => Promise<void> | void;
  /** Progress of the current segment (in its unique chunks), where it starts and how many inputs it holds. */
  onProgress?: (progress: RunProgress & { segmentStart: number; segmentLength: number }) => void;
}

export const DEFAULT_SEGMENT_SIZE = 100_000;

/**
 * runDistributed over an input of any length with bounded memory: it reads `segmentSize` items, runs them as one
 * distributed run (plan, submit, collect, write in order), then reads the next. The output is the one a single run
 * writes: positions stay global, and a text repeated in a later segment is found in the sink, not embedded again.
 * Workers idle between segments for as long as the producer takes to plan the next (token counting only).
 */
export async function runDistributedStream<T>(options: StreamRunOptions<T>): Promise<RunResult> {
  const { items, textOf, segmentSize = DEFAULT_SEGMENT_SIZE, write, onProgress, ...run } = options;
  const total: RunResult = { chunks: 0, uniqueChunks: 0, jobsPlanned: 0, jobsSubmitted: 0, chunksAlreadyDone: 0, failed: [], written: 0 };
  let segment: T[] = [];
  const runSegment = async (): Promise<void> => {
    const start = total.chunks;
    const held = segment;
    segment = [];
    const result = await runDistributed({
      ...run,
      texts: held.map(textOf),
      write: (index, vector) => write(start + index, vector, held[index]!),
      ...(onProgress === undefined ? {} : { onProgress: (progress: RunProgress) => onProgress({ ...progress, segmentStart: start, segmentLength: held.length }) }),
    });
    total.chunks += result.chunks;
    total.uniqueChunks += result.uniqueChunks;
    total.jobsPlanned += result.jobsPlanned;
    total.jobsSubmitted += result.jobsSubmitted;
    total.chunksAlreadyDone += result.chunksAlreadyDone;
    total.written += result.written;
    total.failed.push(...result.failed.map((chunk): FailedChunk => ({ ...chunk, indexes: chunk.indexes.map((index) => start + index) })));
  };
  for await (const item of items) {
    segment.push(item);
    if (segment.length >= segmentSize) await runSegment();
  }
  if (segment.length > 0) await runSegment();
  return total;
}
