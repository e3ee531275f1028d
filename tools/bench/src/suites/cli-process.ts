import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { percentile } from '../measure';
import { isQuick } from '../options';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * Issue 19: the whole process, start-up included, of `embedder embed --input short.txt` against a library user's
 * script doing the same (import, load, one embed() of every line, JSON lines to stdout; dist/whole-process.js) and
 * against transformers.js's pipeline in the same kind of script, in alternating rounds. Each child reports its own
 * CPU time at exit; the parent times the process and when its first and last output bytes arrive. Goal: the CLI's
 * start-up and end cost no more than the library's, so its whole-process throughput is >= 0.95x the library's.
 * BENCH_CLI_PROCESS_ROUNDS overrides the rounds (3; --quick 1).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const sharedDir = process.env.EMBEDDER_SHARED_PATH || join(repoRoot, '..', 'shared');
const binPath = join(repoRoot, 'apps/cli/dist/bin.js');
const scriptPath = fileURLToPath(new URL('../whole-process.js', import.meta.url));
const CPU_MARK = 'BENCH_CPU ';
// Loaded first in every child: its CPU time at exit, on stderr.
const reportCpu = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\n${CPU_MARK}'+JSON.stringify(process.cpuUsage())+'\\n'))`;

type System = 'embedder CLI' | 'embedder library' | 'transformers.js';

interface ProcessRun {
  wallS: number;
  cpuS: number;
  firstOutputS: number;
  /** From the last output byte to the process's exit. */
  tailS: number;
  lines: number;
}

function runProcess(system: System, dtype: string, input: string): Promise<ProcessRun> {
  const args =
    system === 'embedder CLI'
      ? [binPath, 'embed', '--input', input, '--dtype', dtype, '--no-progress']
      : [scriptPath, system === 'transformers.js' ? 'transformers.js' : 'embedder', dtype, input];
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', reportCpu, ...args], {
    env: { ...process.env, EMBEDDER_CACHE_SIZE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let first = 0;
  let last = 0;
  let lines = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    last = performance.now();
    if (first === 0) first = last;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const ended = performance.now();
      const mark = stderr.lastIndexOf(CPU_MARK);
      if (code !== 0 || mark === -1) return reject(new Error(`${system} ${dtype} exited ${code}: ${stderr.trim().slice(-2000)}`));
      const cpu = JSON.parse(stderr.slice(mark + CPU_MARK.length).split('\n')[0]!) as { user: number; system: number };
      resolveRun({
        wallS: (ended - started) / 1000,
        cpuS: (cpu.user + cpu.system) / 1e6,
        firstOutputS: (first - started) / 1000,
        tailS: (ended - last) / 1000,
        lines,
      });
    });
  });
}

const median = (values: readonly number[]) => percentile(values, 0.5);

async function run(): Promise<SuiteResult> {
  for (const file of [binPath, scriptPath]) if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`);
  const input = join(sharedDir, 'data/bench/short.txt');
  const rounds = Number(process.env.BENCH_CLI_PROCESS_ROUNDS || (isQuick() ? 1 : 3));
  const systems: System[] = ['embedder CLI', 'embedder library', 'transformers.js'];
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const dtype of ['fp32', 'q8']) {
    const runs = new Map<System, ProcessRun[]>(systems.map((system) => [system, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternating order: the machine's speed drifts over minutes.
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      for (const system of order) {
        const result = await runProcess(system, dtype, input);
        runs.get(system)!.push(result);
        console.error(`  done ${system} ${dtype} round ${round + 1}: ${result.wallS.toFixed(2)} s, ${result.lines} lines`);
      }
    }
    const texts = runs.get('embedder CLI')![0]!.lines;
    for (const system of systems) {
      const each = runs.get(system)!;
      if (each.some((result) => result.lines !== texts)) throw new Error(`${system} ${dtype} wrote ${each.map((r) => r.lines).join('/')} lines, expected ${texts}`);
      rows.push({
        system: `${system} ${dtype}`,
        metrics: {
          emb_per_s: Math.round(texts / median(each.map((result) => result.wallS))),
          wall_s: Number(median(each.map((result) => result.wallS)).toFixed(2)),
          cpu_s: Number(median(each.map((result) => result.cpuS)).toFixed(2)),
          first_output_s: Number(median(each.map((result) => result.firstOutputS)).toFixed(2)),
          tail_s: Number(median(each.map((result) => result.tailS)).toFixed(3)),
        },
      });
    }
    const perRound = (a: System, b: System) => runs.get(a)!.map((result, round) => runs.get(b)![round]!.wallS / result.wallS);
    const versusLibrary = perRound('embedder CLI', 'embedder library');
    const versusTransformers = perRound('embedder CLI', 'transformers.js');
    const ratio = median(versusLibrary);
    notes.push(
      `${ratio >= 0.95 ? 'PASS' : 'FAIL'} ${dtype} CLI whole process vs the library's: ${ratio.toFixed(3)}x, rounds [${versusLibrary.map((x) => x.toFixed(2)).join(', ')}] (goal >= 0.95x)`,
      `${dtype} CLI whole process vs transformers.js's: ${median(versusTransformers).toFixed(2)}x, rounds [${versusTransformers.map((x) => x.toFixed(2)).join(', ')}]`,
    );
  }
  return {
    suite: 'cli-process',
    description: `data/bench/short.txt (3,000 lines) embedded by a whole process each, start-up and output included: \`embedder embed --input\` vs a library script (one embed() call) vs transformers.js (batches of 32), JSON lines to a pipe, cache off, ${rounds} alternating round(s), medians`,
    rows,
    notes,
  };
}

/** The suite, for tools/bench's runner. */
export const cliProcessSuite: BenchSuite = { name: 'cli-process', run };
export default cliProcessSuite;

// Runnable alone: node tools/bench/dist/suites/cli-process.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 2));
}
