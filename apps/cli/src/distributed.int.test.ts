import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cosine, freePort, sharedFile, startRedis, type TestRedis } from '@embedder-rag/test-fixtures';
import { parseLines, runCli, spawnCli, type EmbeddingLine } from './run-cli.test-util';

// The distributed mode as users run it: a real redis-server, `embedder worker` processes and the `embedder embed
// --queue` producer, all spawned from the built CLI. q8 with --batch-size 1 and one thread on both sides: every text
// is then inferred alone, so a vector does not depend on which job or batch carried it, and the distributed output
// must equal the local mode's bit for bit (q8's dynamic quantisation makes batched vectors depend on their batch).
const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-distributed-'));
const input = join(dir, 'mixed.jsonl');
writeFileSync(input, readFileSync(sharedFile('data/bench/mixed.jsonl'), 'utf8'));
const model = ['--dtype', 'q8', '--batch-size', '1', '--threads', '1'];
let local: EmbeddingLine[] = [];
const children = new Set<ChildProcess>();
const redises: TestRedis[] = [];

beforeAll(async () => {
  const output = join(dir, 'local.jsonl');
  const run = await runCli(['embed', '--input', input, '--output', output, ...model]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  local = parseLines<EmbeddingLine>(readFileSync(output, 'utf8'));
  expect(local).toHaveLength(1000);
}, 600_000);

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  for (const redis of redises.splice(0)) await redis.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function redisFor(options: { appendonly?: boolean } = {}): Promise<TestRedis> {
  const redis = await startRedis(options);
  redises.push(redis);
  return redis;
}

/** Spawns a process and keeps its stderr; `ready` resolves when stderr shows `marker`. */
function spawnTracked(args: string[], marker?: string): { child: ChildProcess; stderr: () => string; ready: Promise<void>; exit: Promise<number | null> } {
  const child = spawnCli(args);
  children.add(child);
  child.stdin!.end();
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      if (marker !== undefined && stderr.includes(marker)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`${args[0]} exited (${code ?? signal}) before it was ready:\n${stderr}`)));
  });
  ready.catch(() => {});
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stderr: () => stderr, ready, exit };
}

function startWorker(redis: TestRedis, extra: string[] = []) {
  // A killed worker's job is back in the queue within seconds. The lock must outlive any stall of a worker's event loop
  // on a busy machine (a 2 s lock was lost there once, and the job ran twice: written once, but embedded twice).
  return spawnTracked(['worker', '--queue', redis.url, '--stalled-interval', '1000', '--lock-duration', '8000', ...model, ...extra], 'embedder worker: ready');
}

function startProducer(redis: TestRedis, inputFile: string, output: string) {
  return spawnTracked(['embed', '--queue', redis.url, '--input', inputFile, '--output', output, '--job-tokens', '2048', '--verbose', ...model]);
}

async function status(redis: TestRedis): Promise<{ jobs: Record<string, number>; results: number; counters: Record<string, number> }> {
  const run = await runCli(['queue', 'status', '--queue', redis.url]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

/** Polls `check` until it holds; fails after `timeoutMs` (generous: this is a bound on a hang, not a speed test). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The output holds each input line once, in order, with the local mode's id and exactly its vector. */
function expectSameAsLocal(output: string, lines: number): void {
  const got = parseLines<EmbeddingLine>(readFileSync(output, 'utf8'));
  expect(got).toHaveLength(lines);
  got.forEach((line, i) => {
    expect(line.index).toBe(i);
    expect(line.id).toEqual(local[i]!.id);
    expect(cosine(Float32Array.from(line.embedding), Float32Array.from(local[i]!.embedding))).toBeGreaterThanOrEqual(0.999999);
    expect(line.embedding).toEqual(local[i]!.embedding);
  });
}

async function expectQueueSettled(redis: TestRedis): Promise<Awaited<ReturnType<typeof status>>> {
  // A job whose worker died after writing its results is done for the producer but still active until its lock
  // expires and another worker re-runs it (skipping every chunk): wait for that.
  let last = await status(redis);
  await until('no job waiting, active or failed', async () => {
    last = await status(redis);
    return last.jobs.waiting === 0 && last.jobs.active === 0 && last.jobs.delayed === 0;
  });
  expect(last.jobs.failed).toBe(0);
  return last;
}

/** Writes the first 300 input lines to `name` and starts two workers; returns the file. */
async function subsetWithTwoWorkers(redis: TestRedis, name: string): Promise<string> {
  const subset = join(dir, name);
  writeFileSync(subset, readFileSync(input, 'utf8').split('\n').slice(0, 300).map((line) => `${line}\n`).join(''));
  // No worker is killed in these tests, so a long lock costs nothing; an 8 s one expired once under load (two CI runs and
  // stress-ng at once) and two live jobs ran twice (their chunks were skipped, but jobsRun counted them).
  const workers = [startWorker(redis, ['--lock-duration', '60000']), startWorker(redis, ['--lock-duration', '60000'])];
  await Promise.all(workers.map((worker) => worker.ready));
  return subset;
}

const unique = (count: number) => new Set(readFileSync(input, 'utf8').split('\n').slice(0, count).map((line) => JSON.parse(line).text)).size;

describe('embedder worker + embed --queue', () => {
  it('3 workers, one SIGKILLed 5 times and replaced: every vector once, equal to the local mode, nothing left active or failed', async () => {
    const redis = await redisFor();
    const workers = [startWorker(redis), startWorker(redis), startWorker(redis)];
    await Promise.all(workers.map((worker) => worker.ready));
    const output = join(dir, 'killed-workers.jsonl');
    const producer = startProducer(redis, input, output);
    let producerDone = false;
    void producer.exit.then(() => (producerDone = true));
    const writtenAtKill: number[] = [];
    let victim = workers[0]!;
    for (let kill = 0; kill < 5; kill++) {
      // A random moment while the victim takes jobs: before, during or after a result write.
      await sleep(200 + Math.random() * 1500);
      writtenAtKill.push((await status(redis)).counters.chunksWritten ?? 0);
      victim.child.kill('SIGKILL');
      await victim.exit;
      victim = startWorker(redis);
      await victim.ready;
    }
    const killsDuringRun = producerDone ? writtenAtKill.filter((written) => written < unique(1000)).length : 5;
    expect(await producer.exit, producer.stderr()).toBe(0);
    expectSameAsLocal(output, 1000);
    const settled = await expectQueueSettled(redis);
    // Exactly-once writes: one insert per distinct text, however many times jobs ran.
    expect(settled.counters.chunksWritten).toBe(unique(1000));
    expect(settled.results).toBe(unique(1000));
    expect(settled.counters.chunksEmbedded).toBeGreaterThanOrEqual(unique(1000));
    expect(killsDuringRun, `chunks written at each kill: ${writtenAtKill.join(', ')}`).toBe(5);
    console.log(`kill test: written at kills ${writtenAtKill.join(', ')}; jobs run ${settled.counters.jobsRun}, chunks embedded ${settled.counters.chunksEmbedded} for ${unique(1000)} distinct`);
  }, 600_000);

  it('Redis SIGKILLed and restarted mid-run with appendonly on: the run completes with the same output', async () => {
    const redis = await redisFor({ appendonly: true });
    const subset = await subsetWithTwoWorkers(redis, 'subset-redis.jsonl');
    const output = join(dir, 'killed-redis.jsonl');
    const producer = startProducer(redis, subset, output);
    await until('some results', async () => (await status(redis)).counters.chunksWritten! > 0);
    await redis.kill();
    await sleep(1000);
    await redis.restart();
    expect(await producer.exit, producer.stderr()).toBe(0);
    expectSameAsLocal(output, 300);
    const settled = await expectQueueSettled(redis);
    expect(settled.counters.chunksWritten).toBe(unique(300));
  }, 600_000);

  it('the producer SIGKILLed mid-run and rerun: complete output, nothing embedded twice', async () => {
    const redis = await redisFor();
    const subset = await subsetWithTwoWorkers(redis, 'subset-producer.jsonl');
    const output = join(dir, 'killed-producer.jsonl');
    const first = startProducer(redis, subset, output);
    await until('some results', async () => (await status(redis)).counters.chunksWritten! > 20);
    first.child.kill('SIGKILL');
    await first.exit;
    const planned = Number(/"planned":(\d+)/.exec(first.stderr())?.[1]);
    expect(planned).toBeGreaterThan(1);
    const second = startProducer(redis, subset, output);
    expect(await second.exit, second.stderr()).toBe(0);
    // The rerun found the first run's results in the sink and queued only jobs with missing chunks (those still
    // queued from the first run are the same jobs: adding them again adds nothing).
    expect(Number(/"chunksAlreadyDone":(\d+)/.exec(second.stderr())?.[1])).toBeGreaterThan(20);
    expectSameAsLocal(output, 300);
    const settled = await expectQueueSettled(redis);
    expect(settled.counters.chunksEmbedded).toBe(unique(300));
    // Nothing embedded twice is the count above. Jobs: the rerun re-plans the missing chunks into jobs of its own (ids
    // from their content, so a job the first run had queued unchanged is not added again), so every job run is one
    // the first or the second run planned, each run once: equality with the first run's plan failed when the kill
    // fell inside a job (20 run, 19 planned, on a quiet machine).
    const replanned = Number(/"planned":(\d+)/.exec(second.stderr())?.[1]);
    expect(replanned).toBeGreaterThanOrEqual(0);
    expect(settled.counters.jobsRun).toBeGreaterThanOrEqual(replanned);
    expect(settled.counters.jobsRun).toBeLessThanOrEqual(planned + replanned);
  }, 600_000);

  it('bad queue input: unreachable and malformed URLs, a worker of another dtype', async () => {
    const closed = await freePort();
    const unreachable = await runCli(['queue', 'status', '--queue', `redis://127.0.0.1:${closed}`, '--connect-timeout', '2000']);
    expect(unreachable.code).toBe(10);
    expect(unreachable.stderr).toMatch(/^embedder: QUEUE_UNAVAILABLE: the queue at redis:\/\/127\.0\.0\.1:\d+ cannot be reached/);
    const worker = await runCli(['worker', '--queue', `redis://127.0.0.1:${closed}`, '--connect-timeout', '2000', ...model]);
    expect(worker.code).toBe(10);
    expect(worker.stderr).toMatch(/QUEUE_UNAVAILABLE/);
    for (const bad of ['localhost:6379', 'http://127.0.0.1:6379']) {
      const run = await runCli(['embed', '--queue', bad, 'some text']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^embedder: INVALID_CONFIG: --queue must/);
    }
    const redis = await redisFor();
    const text = join(dir, 'one.jsonl');
    writeFileSync(text, '{"text":"a queue recorded for q8"}\n');
    const q8Worker = startWorker(redis);
    await q8Worker.ready;
    const run = await runCli(['embed', '--queue', redis.url, '--input', text, '--output', join(dir, 'one-out.jsonl'), ...model]);
    expect(run.code, run.stderr).toBe(0);
    const fp32 = await runCli(['worker', '--queue', redis.url, '--dtype', 'fp32', '--threads', '1']);
    expect(fp32.code).toBe(11);
    expect(fp32.stderr).toMatch(/^embedder: MODEL_MISMATCH: queue 'embedder' holds jobs for sentence-transformers\/all-MiniLM-L6-v2 q8 dim 384, but this process serves .* fp32/);
  }, 600_000);
});
