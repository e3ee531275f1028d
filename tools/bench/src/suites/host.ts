import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';
import { loadAverage } from '../measure';

/**
 * The model-host seam's cost in CPU time: the 3,000 lines of data/bench/short.txt through (a) the server path
 * (HTTP /embed, 16 clients × 1 text, into the model's worker thread: one channel call per text) and (b) the facade
 * with 2 onnx replicas on worker threads (one channel call per batch), each in a fresh child process, cache off.
 * CPU time (process.cpuUsage: every thread of the process) barely moves when other processes share the cores, where
 * wall time does. With BENCH_HOST_BASELINE=<root of another built checkout> the same rounds alternate between that
 * build and this one and the notes give after/before ratios; without it, this build alone. BENCH_HOST_ROUNDS (3),
 * BENCH_HOST_DTYPE (q8).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const sharedDir = process.env.EMBEDDER_SHARED_PATH || join(repoRoot, '..', 'shared');
const modelPath = process.env.EMBEDDER_MODEL_PATH || join(sharedDir, 'models');
const corpus = join(sharedDir, 'data/bench/short.txt');

type Path = 'server' | 'replicas';

/** Runs in the child: embeds the corpus once to warm up, then once measured; prints { cpuMs, wallMs, texts }. */
const childScript = `
  const [root, path, dtype, corpus] = process.argv.slice(2);
  const { pathToFileURL } = await import('node:url');
  const texts = (await import('node:fs')).readFileSync(corpus, 'utf8').split('\\n').map((l) => l.trim()).filter(Boolean);
  const measure = async (pass) => {
    await pass(texts.slice(0, 64).map((t) => t + ' (warm-up)'));
    const cpu = process.cpuUsage();
    const started = performance.now();
    await pass(texts);
    const used = process.cpuUsage(cpu);
    return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started, texts: texts.length };
  };
  let result;
  if (path === 'server') {
    const { startServer } = await import(pathToFileURL(root + '/apps/server/dist/index.js').href);
    const server = await startServer({ env: { ...process.env, EMBEDDER_PORT: '0', EMBEDDER_HOST: '127.0.0.1', EMBEDDER_DTYPE: dtype, EMBEDDER_CACHE_SIZE: '0', LOG_LEVEL: 'silent' } });
    const http = await import('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const post = (text) => new Promise((done, fail) => {
      const body = JSON.stringify({ inputs: text });
      const req = http.request(server.url + '/embed', { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error('status ' + res.statusCode))));
      });
      req.on('error', fail);
      req.end(body);
    });
    result = await measure(async (batch) => {
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => { while (next < batch.length) await post(batch[next++]); }));
    });
    agent.destroy();
    await server.close();
  } else {
    const { EmbeddingGenerator, EmbedderConfig } = await import(pathToFileURL(root + '/packages/embedder/dist/index.js').href);
    const generator = await EmbeddingGenerator.create(EmbedderConfig.create({ modelPath: process.env.EMBEDDER_MODEL_PATH, cacheSize: 0, dtype, replicas: 2, intraOpThreads: 2 }));
    result = await measure((batch) => generator.embed(batch));
    await generator.dispose();
  }
  process.stdout.write(JSON.stringify(result));
`;

/**
 * One pass in a fresh process. The script runs from a file, not `-e`: flags like --input-type would reach the worker
 * threads of a build whose workers inherit the parent's flags, and fail them there.
 */
async function runRound(script: string, root: string, path: Path, dtype: string): Promise<{ cpuMs: number; wallMs: number; texts: number }> {
  const child = spawn(process.execPath, [script, root, path, dtype, corpus], {
    env: { ...process.env, EMBEDDER_MODEL_PATH: modelPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${path} round on ${root} exited ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout) as { cpuMs: number; wallMs: number; texts: number };
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

async function run(): Promise<SuiteResult> {
  const baseline = process.env.BENCH_HOST_BASELINE ? resolve(process.env.BENCH_HOST_BASELINE) : undefined;
  const rounds = Number(process.env.BENCH_HOST_ROUNDS || 3);
  const dtype = process.env.BENCH_HOST_DTYPE || 'q8';
  const builds: [label: string, root: string][] = baseline === undefined ? [['this build', repoRoot]] : [['baseline', baseline], ['this build', repoRoot]];
  for (const [, root] of builds) {
    for (const file of ['apps/server/dist/index.js', 'packages/embedder/dist/index.js']) {
      if (!existsSync(join(root, file))) throw new Error(`${join(root, file)} is missing: build that checkout first`);
    }
  }
  const samples = new Map<string, { cpuMs: number[]; wallMs: number[] }>();
  const loads: number[] = [];
  const scriptDir = mkdtempSync(join(tmpdir(), 'embedder-bench-host-'));
  const script = join(scriptDir, 'pass.mjs');
  writeFileSync(script, childScript);
  try {
    for (let round = 0; round < rounds; round++) {
      for (const path of ['server', 'replicas'] as const) {
        // Alternate which build goes first, so a drift in the machine's load falls on both alike.
        const order = round % 2 === 0 ? builds : [...builds].reverse();
        for (const [label, root] of order) {
          loads.push(loadAverage());
          const result = await runRound(script, root, path, dtype);
          const key = `${path} ${label}`;
          const entry = samples.get(key) ?? { cpuMs: [], wallMs: [] };
          entry.cpuMs.push(result.cpuMs);
          entry.wallMs.push(result.wallMs);
          samples.set(key, entry);
          process.stderr.write(`  ${key}: cpu ${(result.cpuMs / 1000).toFixed(2)} s, wall ${(result.wallMs / 1000).toFixed(2)} s\n`);
        }
      }
    }
  } finally {
    rmSync(scriptDir, { recursive: true, force: true });
  }
  const rows: BenchRow[] = [...samples].map(([system, entry]) => ({
    system: `${system} ${dtype}`,
    metrics: {
      cpu_s_total: Math.round(sum(entry.cpuMs)) / 1000,
      cpu_s_min: Math.round(Math.min(...entry.cpuMs)) / 1000,
      wall_s_min: Math.round(Math.min(...entry.wallMs)) / 1000,
      rounds: entry.cpuMs.length,
    },
  }));
  const notes = [`load average during the rounds: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`];
  if (baseline !== undefined) {
    for (const path of ['server', 'replicas'] as const) {
      const before = samples.get(`${path} baseline`)!;
      const after = samples.get(`${path} this build`)!;
      notes.push(
        `${path}: CPU time this build / baseline ${(sum(after.cpuMs) / sum(before.cpuMs)).toFixed(3)} (sums), ` +
          `${(Math.min(...after.cpuMs) / Math.min(...before.cpuMs)).toFixed(3)} (best rounds); baseline ${baseline}`,
      );
    }
  }
  return {
    suite: 'host',
    description: `data/bench/short.txt (3,000 lines), cache off, ${dtype}: server /embed (16 clients × 1 text) and the facade with 2 onnx replicas, CPU time of the whole child process per pass, ${rounds} alternating rounds`,
    rows,
    notes,
  };
}

/** The suite, for tools/bench's runner. */
export const hostSuite: BenchSuite = { name: 'host', run };
export default hostSuite;
