import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, modelRoot, startRedis } from '@embedder-rag/test-fixtures';
import { loadCorpus, type CorpusName } from '../corpora';
import { isQuick } from '../options';
import { percentile, round } from '../measure';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * Issue 20's must-show: the distributed mode (2 `embedder worker`s with 1 thread each, a local redis-server) against
 * the local mode (`embedder embed`, all cores) on the short and mixed corpora, in the same run, through the built CLI.
 * Both timings run from spawning `embed` to its exit (one model load each: the workers are started and loaded before).
 * Goal: distributed >= 90% of local throughput. The queue's own cost per job is what the workers spent on Redis
 * (sink lookups and writes, counters; from their Prometheus metrics) and the rest of the wall time not spent in jobs.
 * Rounds alternate local/distributed; the ratio is the median of per-round ratios. BENCH_DIST_ROUNDS (default 2, 1 quick).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const binPath = join(repoRoot, 'apps/cli/dist/bin.js');
const DTYPE = 'q8';

function cpuFlags(): string {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(' ') ?? [];
    return flags.filter((flag) => /^(avx|avx2|avx512f|avx512_vnni|avx_vnni|fma|sse4_2|amx)/.test(flag)).join(' ') || 'unknown';
  } catch {
    return 'unknown';
  }
}

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [binPath, ...args], {
    env: { ...process.env, EMBEDDER_MODEL_PATH: modelRoot() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function timed(args: string[]): Promise<number> {
  const started = performance.now();
  const child = cli(args);
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`embedder ${args.join(' ')} exited ${code}: ${stderr}`);
  return (performance.now() - started) / 1000;
}

async function startWorker(url: string, metricsPort: number): Promise<ChildProcess> {
  const child = cli(['worker', '--queue', url, '--queue-name', 'bench', '--dtype', DTYPE, '--threads', '1', '--metrics-port', String(metricsPort)]);
  let stderr = '';
  await new Promise<void>((resolveReady, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      if (stderr.includes('embedder worker: ready')) resolveReady();
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${stderr}`)));
  });
  return child;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`${name} `) || row.startsWith(`${name}{`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function run(): Promise<SuiteResult> {
  const rounds = Number(process.env.BENCH_DIST_ROUNDS || (isQuick() ? 1 : 2));
  const dir = mkdtempSync(join(tmpdir(), 'embedder-bench-dist-'));
  const redis = await startRedis();
  const ports = [await freePort(), await freePort()];
  const workers = await Promise.all(ports.map((port) => startWorker(redis.url, port)));
  const rows: BenchRow[] = [];
  const notes: string[] = [`CPU flags: ${cpuFlags()}`];
  try {
    for (const corpus of ['short', 'mixed'] as CorpusName[]) {
      const texts = loadCorpus(corpus);
      const input = join(dir, `${corpus}.jsonl`);
      writeFileSync(input, texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
      const local: number[] = [];
      const distributed: number[] = [];
      const ratios: number[] = [];
      let jobs = 0;
      let jobSeconds = 0;
      let redisSeconds = 0;
      for (let round = 0; round < rounds; round++) {
        local.push(await timed(['embed', '--dtype', DTYPE, '--input', input, '--output', join(dir, 'local.jsonl')]));
        // A fresh queue each round, else the sink would answer every chunk.
        await timed(['queue', 'clean', '--queue', redis.url, '--queue-name', 'bench']);
        const before = await Promise.all(ports.map(async (port) => [await metric(port, 'te_request_count'), await metric(port, 'embedder_worker_job_seconds_total'), await metric(port, 'embedder_worker_redis_seconds_total')]));
        distributed.push(await timed(['embed', '--queue', redis.url, '--queue-name', 'bench', '--dtype', DTYPE, '--input', input, '--output', join(dir, 'dist.jsonl')]));
        const after = await Promise.all(ports.map(async (port) => [await metric(port, 'te_request_count'), await metric(port, 'embedder_worker_job_seconds_total'), await metric(port, 'embedder_worker_redis_seconds_total')]));
        after.forEach((values, w) => {
          jobs += values[0]! - before[w]![0]!;
          jobSeconds += values[1]! - before[w]![1]!;
          redisSeconds += values[2]! - before[w]![2]!;
        });
        ratios.push(local.at(-1)! / distributed.at(-1)!);
      }
      const ratio = percentile(ratios, 50);
      const localRate = texts.length / percentile(local, 50);
      const distRate = texts.length / percentile(distributed, 50);
      rows.push({ system: `local ${DTYPE} ${corpus}`, metrics: { texts: texts.length, emb_per_s: round(localRate) } });
      rows.push({
        system: `2 workers x 1 thread ${DTYPE} ${corpus}`,
        metrics: {
          texts: texts.length,
          emb_per_s: round(distRate),
          vs_local: round(ratio),
          jobs: jobs / rounds,
          redis_ms_per_job: round((redisSeconds / jobs) * 1000),
          job_ms: round((jobSeconds / jobs) * 1000),
        },
      });
      notes.push(`${corpus}: distributed at ${(ratio * 100).toFixed(0)}% of local (goal >= 90%): ${ratio >= 0.9 ? 'met' : 'NOT met'}; Redis ${round((redisSeconds / jobs) * 1000)} ms of ${round((jobSeconds / jobs) * 1000)} ms per job`);
    }
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map(async (worker) => (worker.exitCode === null ? once(worker, 'exit') : undefined)));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    suite: 'distributed',
    description: `embedder embed --dtype ${DTYPE}, local (all cores) vs --queue with 2 workers x 1 thread on a local redis-server; seconds from spawn to exit, ${rounds} round(s)`,
    rows,
    notes,
  };
}

export const distributedSuite: BenchSuite = { name: 'distributed', run };
export default distributedSuite;
