import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * Issue 8's must-show: the server's throughput under 64 concurrent clients each sending one text per request,
 * against the library embedding the same texts in one embed() call, in the same run. Both run as child processes
 * of the built packages (apps/server/dist/main.js; packages/embedder/dist) with the cache off, so each text is
 * computed once. Goal (issue 19): server ≥ 85% of the library. BENCH_SERVER_CLIENTS (64), BENCH_SERVER_TEXTS (all of
 * data/bench/short.txt), BENCH_SERVER_DTYPE (fp32) and BENCH_SERVER_ENTRY (apps/server/dist/main.js) override the
 * defaults.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const sharedDir = process.env.EMBEDDER_SHARED_PATH || join(repoRoot, '..', 'shared');
/** BENCH_SERVER_ENTRY: another build of the server (e.g. a deployed copy) to measure instead. */
const serverEntry = process.env.BENCH_SERVER_ENTRY || join(repoRoot, 'apps/server/dist/main.js');
const facadeEntry = join(repoRoot, 'packages/embedder/dist/index.js');
const modelPath = process.env.EMBEDDER_MODEL_PATH || join(sharedDir, 'models');

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, EMBEDDER_MODEL_PATH: modelPath, EMBEDDER_CACHE_SIZE: '0', ...extra };
}

/**
 * The library alone, in its own process: one embed() of every text (the goal's peer), then the same texts from
 * `clients` concurrent in-process callers of one text each (the server's arrival pattern without HTTP).
 */
async function libraryThroughput(texts: string[], dtype: string, clients: number): Promise<{ embPerS: number; seconds: number; callersEmbPerS: number }> {
  const script = `
    const { EmbeddingGenerator, EmbedderConfig } = await import(${JSON.stringify(pathToFileURL(facadeEntry).href)});
    const texts = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const generator = await EmbeddingGenerator.create(EmbedderConfig.create({ modelPath: process.env.EMBEDDER_MODEL_PATH, cacheSize: 0, dtype: ${JSON.stringify(dtype)} }));
    await generator.embed(texts.slice(0, 64).map((t) => t + ' (warm-up)'));
    const started = performance.now();
    const vectors = await generator.embed(texts);
    const seconds = (performance.now() - started) / 1000;
    if (vectors.length !== texts.length) throw new Error('wrong count');
    let next = 0;
    const callersStarted = performance.now();
    await Promise.all(Array.from({ length: ${clients} }, async () => {
      while (next < texts.length) await generator.embed([texts[next++]]);
    }));
    const callersSeconds = (performance.now() - callersStarted) / 1000;
    process.stdout.write(JSON.stringify({ seconds, callersSeconds }));
    await generator.dispose();
  `;
  const child = spawn(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${script} })().catch((e) => { console.error(e); process.exit(1); })`], {
    env: childEnv({}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(JSON.stringify(texts));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`library run exited ${code}: ${stderr.trim()}`);
  const { seconds, callersSeconds } = JSON.parse(stdout) as { seconds: number; callersSeconds: number };
  return { embPerS: texts.length / seconds, seconds, callersEmbPerS: texts.length / callersSeconds };
}

async function startServer(dtype: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [serverEntry], {
    env: childEnv({ EMBEDDER_PORT: '0', EMBEDDER_HOST: '127.0.0.1', EMBEDDER_DTYPE: dtype, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'ready' && entry.url) resolveUrl(entry.url);
      } catch {
        // not a log line
      }
    });
    child.once('close', (code) => reject(new Error(`server exited ${code} before ready: ${stderr.trim()}`)));
  });
  return { url, child };
}

/**
 * One POST of a JSON body on a keep-alive connection; resolves with the status once the whole answer has arrived.
 * node:http rather than fetch: the clients share the server's two cores, and fetch spent 0.53 ms of CPU per request
 * against 0.17 ms (measured), CPU the server's inference then lacked.
 */
function postJson(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `clients` loops, each posting one text per request to /embed until every text is done; returns texts/s. */
async function serverThroughput(
  url: string,
  texts: string[],
  clients: number,
): Promise<{ embPerS: number; seconds: number; p50Ms: number; p99Ms: number; failed: number; clientCpuMsPerRequest: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const endpoint = new URL('/embed', url);
  const post = (text: string) => postJson(agent, endpoint, JSON.stringify({ inputs: text }));
  // Warm-up: connections, JIT, the model's first batches.
  await Promise.all(texts.slice(0, clients).map((text) => post(`${text} (warm-up)`)));
  let next = 0;
  let failed = 0;
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < texts.length) {
        const text = texts[next++]!;
        const begin = performance.now();
        const status = await post(text);
        latencies.push(performance.now() - begin);
        if (status !== 200) failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { embPerS: texts.length / seconds, seconds, p50Ms: at(0.5), p99Ms: at(0.99), failed, clientCpuMsPerRequest: (cpu.user + cpu.system) / 1000 / texts.length };
}

async function batchStats(url: string): Promise<{ batches: number; meanSize: number }> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const read = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  const batches = read('te_batch_next_size_count');
  return { batches, meanSize: read('te_batch_next_size_sum') / batches };
}

async function run(): Promise<SuiteResult> {
  for (const file of [serverEntry, facadeEntry]) if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`);
  const clients = Number(process.env.BENCH_SERVER_CLIENTS || 64);
  const dtype = process.env.BENCH_SERVER_DTYPE || 'fp32';
  const all = readFileSync(join(sharedDir, 'data/bench/short.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const texts = all.slice(0, Number(process.env.BENCH_SERVER_TEXTS || all.length));

  const library = await libraryThroughput(texts, dtype, clients);
  const { url, child } = await startServer(dtype);
  let server: Awaited<ReturnType<typeof serverThroughput>>;
  let batches: Awaited<ReturnType<typeof batchStats>>;
  try {
    server = await serverThroughput(url, texts, clients);
    batches = await batchStats(url);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'close');
  }
  const ratio = server.embPerS / library.embPerS;
  const overhead = server.embPerS / library.callersEmbPerS;
  const round = (x: number) => Math.round(x * 10) / 10;
  const rows: BenchRow[] = [
    { system: `library embed(${texts.length} texts) ${dtype}`, metrics: { emb_per_s: round(library.embPerS), wall_s: round(library.seconds) } },
    { system: `library, ${clients} in-process callers × 1 text ${dtype}`, metrics: { emb_per_s: round(library.callersEmbPerS) } },
    {
      system: `server /embed, ${clients} clients × 1 text ${dtype}`,
      metrics: {
        emb_per_s: round(server.embPerS),
        wall_s: round(server.seconds),
        p50_ms: round(server.p50Ms),
        p99_ms: round(server.p99Ms),
        failed: server.failed,
        mean_batch_size: round(batches.meanSize),
      },
    },
  ];
  return {
    suite: 'server',
    description: `${texts.length} texts of data/bench/short.txt, cache off: the library in one call vs the built server under ${clients} concurrent single-text clients (both in child processes, same run)`,
    rows,
    notes: [
      `server / library throughput ${(ratio * 100).toFixed(1)}%: ${ratio >= 0.85 && server.failed === 0 ? 'PASS' : 'FAIL'} (goal ≥ 85%, no failed requests)`,
      `server / library with the same ${clients} single-text callers: ${(overhead * 100).toFixed(1)}% (what HTTP, JSON and the worker thread cost)`,
      `the ${clients} clients (node:http, keep-alive) ran on the same cores: ${server.clientCpuMsPerRequest.toFixed(2)} ms of CPU per request`,
    ],
  };
}

/** The suite, for tools/bench's runner. */
export const serverSuite: BenchSuite = { name: 'server', run };
export default serverSuite;

// Runnable alone: node --experimental-strip-types tools/bench/src/suites/server.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.log(JSON.stringify(result, null, 2));
}
