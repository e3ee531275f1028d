import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 * Start-up and end alone are timed the same way on a one-line file: there the whole process is imports, model
 * load, warm-up, one text and the exit. BENCH_CLI_PROCESS_ROUNDS overrides the rounds (3, and 5 for one line;
 * --quick 1).
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

/** Every system on `input`, `rounds` times, alternating the order round by round (the machine drifts over minutes). */
async function runRounds(systems: readonly System[], dtype: string, input: string, rounds: number): Promise<Map<System, ProcessRun[]>> {
  const runs = new Map<System, ProcessRun[]>(systems.map((system) => [system, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? systems : [...systems].reverse();
    for (const system of order) {
      const result = await runProcess(system, dtype, input);
      runs.get(system)!.push(result);
      console.error(`  done ${system} ${dtype} round ${round + 1}: ${result.wallS.toFixed(2)} s, ${result.lines} lines`);
    }
  }
  return runs;
}

async function run(): Promise<SuiteResult> {
  for (const file of [binPath, scriptPath]) if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`);
  const input = join(sharedDir, 'data/bench/short.txt');
  const rounds = Number(process.env.BENCH_CLI_PROCESS_ROUNDS || (isQuick() ? 1 : 3));
  const startRounds = Number(process.env.BENCH_CLI_PROCESS_ROUNDS || (isQuick() ? 1 : 5));
  const oneLine = join(mkdtempSync(join(tmpdir(), 'bench-cli-process-')), 'one-line.txt');
  writeFileSync(oneLine, `${readFileSync(input, 'utf8').split('\n')[0]}\n`);
  const systems: System[] = ['embedder CLI', 'embedder library', 'transformers.js'];
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const dtype of ['fp32', 'q8']) {
    const runs = await runRounds(systems, dtype, input, rounds);
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

    // Start-up and end alone: one line in, one vector out.
    const startRuns = await runRounds(systems, dtype, oneLine, startRounds);
    for (const system of systems) {
      const each = startRuns.get(system)!;
      rows.push({
        system: `${system} ${dtype}, 1 line`,
        metrics: { wall_s: Number(median(each.map((result) => result.wallS)).toFixed(3)), cpu_s: Number(median(each.map((result) => result.cpuS)).toFixed(3)) },
      });
    }
    const startRatios = startRuns.get('embedder CLI')!.map((result, round) => startRuns.get('embedder library')![round]!.wallS / result.wallS);
    const cli = median(startRuns.get('embedder CLI')!.map((result) => result.wallS));
    const library = median(startRuns.get('embedder library')!.map((result) => result.wallS));
    const startRatio = median(startRatios);
    notes.push(
      `${startRatio >= 0.95 ? 'PASS' : 'FAIL'} ${dtype} start-up and end (1 line, whole process): CLI ${cli.toFixed(3)} s vs library ${library.toFixed(3)} s, ${startRatio.toFixed(3)}x, rounds [${startRatios.map((x) => x.toFixed(2)).join(', ')}] (goal >= 0.95x: as short as the library's)`,
    );
  }
  rmSync(dirname(oneLine), { recursive: true, force: true });
  return {
    suite: 'cli-process',
    description: `data/bench/short.txt (3,000 lines, then its first line alone) embedded by a whole process each, start-up and output included: \`embedder embed --input\` vs a library script (one embed() call) vs transformers.js (batches of 32), JSON lines to a pipe, cache off, ${rounds} (one line: ${startRounds}) alternating round(s), medians`,
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
