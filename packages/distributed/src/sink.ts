import type { Redis } from 'ioredis';
import type { QueueKeys } from './keys';

/** Keys per pipeline round trip: large enough to amortise the trip, small enough to keep Redis responsive. */
const SLICE = 1000;

/**
 * The results of a queue: a Redis hash chunk key → vector bytes (Float32, little-endian). Writes are HSETNX, so the
 * first result of a chunk stays and a job run twice (a worker killed between its write and its acknowledgement)
 * leaves one result: exactly-once output from an at-least-once queue.
 */
export class ResultSink {
  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
  ) {}

  /** For each key, whether the sink holds its vector. */
  async has(chunkKeys: readonly string[]): Promise<boolean[]> {
    const found: boolean[] = [];
    for (let start = 0; start < chunkKeys.length; start += SLICE) {
      const pipeline = this.redis.pipeline();
      for (const key of chunkKeys.slice(start, start + SLICE)) pipeline.hexists(this.keys.results, key);
      for (const [error, value] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        found.push(value === 1);
      }
    }
    return found;
  }

  /** Inserts each vector unless its key already has one; returns how many were new. */
  async insert(entries: ReadonlyArray<readonly [key: string, vector: Float32Array]>): Promise<number> {
    let inserted = 0;
    for (let start = 0; start < entries.length; start += SLICE) {
      const pipeline = this.redis.pipeline();
      for (const [key, vector] of entries.slice(start, start + SLICE)) {
        pipeline.hsetnx(this.keys.results, key, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
      }
      for (const [error, value] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        if (value === 1) inserted++;
      }
    }
    return inserted;
  }

  /** The vectors of `chunkKeys`, undefined where absent. */
  async read(chunkKeys: readonly string[]): Promise<Array<Float32Array | undefined>> {
    const vectors: Array<Float32Array | undefined> = [];
    for (let start = 0; start < chunkKeys.length; start += SLICE) {
      const values = await this.redis.hmgetBuffer(this.keys.results, ...chunkKeys.slice(start, start + SLICE));
      for (const value of values) {
        // Copied out: a Buffer's bytes may sit at an offset not aligned for a Float32Array view.
        vectors.push(value === null ? undefined : new Float32Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)));
      }
    }
    return vectors;
  }

  /** How many vectors the sink holds. */
  async size(): Promise<number> {
    return this.redis.hlen(this.keys.results);
  }
}

/** Counters a queue keeps in Redis, so every worker and run adds to the same numbers. */
export interface QueueCounters {
  /** Job executions (a job run twice counts twice). */
  jobsRun: number;
  /** Chunks that went through inference. */
  chunksEmbedded: number;
  /** Chunks of a job found already in the sink (a rerun job), so not embedded again. */
  chunksSkipped: number;
  /** Vectors inserted into the sink. */
  chunksWritten: number;
}

export async function addCounters(redis: Redis, key: string, counters: Partial<QueueCounters>): Promise<void> {
  const pipeline = redis.pipeline();
  for (const [field, value] of Object.entries(counters)) if (value !== 0) pipeline.hincrby(key, field, value);
  await pipeline.exec();
}

export async function readCounters(redis: Redis, key: string): Promise<QueueCounters> {
  const raw = await redis.hgetall(key);
  const read = (field: keyof QueueCounters) => Number(raw[field] ?? 0);
  return { jobsRun: read('jobsRun'), chunksEmbedded: read('chunksEmbedded'), chunksSkipped: read('chunksSkipped'), chunksWritten: read('chunksWritten') };
}
