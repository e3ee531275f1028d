import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * Issue 5's must-show: `embedder embed --dtype q8` streams a 100,000-line file in bounded memory. Spawns the built
 * CLI on a generated file, samples the child's VmRSS/VmHWM from /proc while counting the JSON lines it writes, and
 * reports the peak and the RSS at 10% and at 100% of the input. Goals: peak < 400 MB, |RSS@100% − RSS@10%| < 50 MB.
 * BENCH_CLI_LINES overrides the line count (default 100,000).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const sharedDir = process.env.EMBEDDER_SHARED_PATH || join(repoRoot, '..', 'shared');
const binPath = join(repoRoot, 'apps/cli/dist/bin.js');
const SAMPLE_MS = 100;

interface Sample {
  seconds: number;
  lines: number;
  rssMb: number;
  hwmMb: number;
}

function readMemory(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    const rssMb = field('VmRSS');
    return Number.isFinite(rssMb) ? { rssMb, hwmMb: field('VmHWM') } : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

/** Writes `count` distinct lines, each two sentences of short.txt (distinct, so the cache never answers). */
async function makeInput(file: string, count: number): Promise<void> {
  const sentences = readFileSync(join(sharedDir, 'data/bench/short.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const n = sentences.length;
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const line = `${sentences[i % n]} ${sentences[Math.floor(i / n) % n]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function measure(inputFile: string, total: number): Promise<{ samples: Sample[]; lines: number; seconds: number; code: number | null; stderr: string }> {
  const env = { ...process.env, EMBEDDER_MODEL_PATH: process.env.EMBEDDER_MODEL_PATH || join(sharedDir, 'models') };
  const started = performance.now();
  const extra = (process.env.BENCH_CLI_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(process.execPath, [...(process.env.BENCH_CLI_NODE_ARGS ?? '').split(' ').filter(Boolean), binPath, 'embed', '--dtype', 'q8', '--input', inputFile, ...extra], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const samples: Sample[] = [];
  let lines = 0;
  const sample = () => {
    const memory = readMemory(pid);
    if (memory) samples.push({ seconds: (performance.now() - started) / 1000, lines, ...memory });
  };
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => {
    const before = lines;
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
    // Sample exactly when the output crosses 10% and reaches 100%, besides the timer.
    if ((before < total / 10 && lines >= total / 10) || (before < total && lines >= total)) sample();
  });
  const timer = setInterval(sample, SAMPLE_MS);
  const [code] = (await once(child, 'close')) as [number | null];
  clearInterval(timer);
  return { samples, lines, seconds: (performance.now() - started) / 1000, code, stderr };
}

async function run(): Promise<SuiteResult> {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing: run pnpm build first`);
  const total = Number(process.env.BENCH_CLI_LINES || 100_000);
  const inputFile = join(tmpdir(), `embedder-cli-stream-${process.pid}.txt`);
  await makeInput(inputFile, total);
  try {
    const result = await measure(inputFile, total);
    if (result.code !== 0 || result.lines !== total) {
      throw new Error(`CLI exited ${result.code} after ${result.lines}/${total} lines: ${result.stderr.trim()}`);
    }
    const at = (fraction: number) => result.samples.find((s) => s.lines >= total * fraction);
    const last = result.samples.at(-1)!;
    const at10 = at(0.1)!;
    const at100 = at(1) ?? last;
    const peak = Math.max(...result.samples.map((s) => Math.max(s.rssMb, s.hwmMb)));
    const growth = at100.rssMb - at10.rssMb;
    const round = (x: number) => Math.round(x * 10) / 10;
    const row: BenchRow = {
      system: 'embedder embed --dtype q8 (stdout piped)',
      metrics: {
        lines: total,
        peak_rss_mb: round(peak),
        rss_at_10pct_mb: round(at10.rssMb),
        rss_at_50pct_mb: round(at(0.5)?.rssMb ?? NaN),
        rss_at_100pct_mb: round(at100.rssMb),
        rss_growth_10_to_100pct_mb: round(growth),
        emb_per_s: Math.round(total / result.seconds),
        wall_s: round(result.seconds),
        samples: result.samples.length,
      },
    };
    return {
      suite: 'cli-stream',
      description: `${total.toLocaleString('en')} distinct lines (pairs of data/bench/short.txt sentences) through the built CLI; VmRSS/VmHWM sampled every ${SAMPLE_MS} ms`,
      rows: [row],
      notes: [
        `peak RSS ${round(peak)} MB: ${peak < 400 ? 'PASS' : 'FAIL'} (goal < 400 MB)`,
        `RSS at 10% ${round(at10.rssMb)} MB, at 100% ${round(at100.rssMb)} MB, difference ${round(growth)} MB: ${Math.abs(growth) < 50 ? 'PASS' : 'FAIL'} (goal < 50 MB)`,
      ],
    };
  } finally {
    rmSync(inputFile, { force: true });
  }
}

/** The suite, for tools/bench's runner. */
export const cliStreamSuite: BenchSuite = { name: 'cli-stream', run };
export default cliStreamSuite;

// Runnable alone: node --experimental-strip-types tools/bench/src/suites/cli-stream.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.log(JSON.stringify(result, null, 2));
}
