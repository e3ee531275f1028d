import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';
import { readProfiles, summariseProfile, threadCpu } from '../cpu-profile';

/**
 * Issue 8's must-show: the server's throughput under 64 concurrent clients each sending one text per request,
 * against the library embedding the same texts in one embed() call, in the same run. Both run as child processes
 * of the built packages (apps/server/dist/main.js; packages/embedder/dist) with the cache off, so each text is
 * computed once. Goal (issue 19): server ≥ 85% of the library. BENCH_SERVER_CLIENTS (64), BENCH_SERVER_TEXTS (all of
 * data/bench/short.txt), BENCH_SERVER_DTYPE (fp32) and BENCH_SERVER_ENTRY (apps/server/dist/main.js) override the
 * defaults. Wall-clock ratios need a quiet machine; the CPU time per text of each side (per thread of the server,
 * from /proc) and the batch statistics hold on a busy one too. BENCH_SERVER_CPU_PROF=<dir> runs the server under
 * `node --cpu-prof` and splits its main thread's CPU during the measured pass by phase.
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

/** Batch counters over a pass: batches, the texts in them, their real and padded tokens. */
interface BatchTotals {
  batches: number;
  items: number;
  tokens: number;
  paddedTokens: number;
}

interface LibraryPass {
  seconds: number;
  cpuMs: number;
  batches: BatchTotals;
}

/**
 * The library alone, in its own process: one embed() of every text (the goal's peer), then the same texts from
 * `clients` concurrent in-process callers of one text each (the server's arrival pattern without HTTP). `replicas`
 * unset = the library's default.
 */
async function libraryThroughput(texts: string[], dtype: string, clients: number, replicas?: number): Promise<{ oneCall: LibraryPass; callers: LibraryPass }> {
  const script = `
    const { EmbeddingGenerator, EmbedderConfig } = await import(${JSON.stringify(pathToFileURL(facadeEntry).href)});
    const texts = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const generator = await EmbeddingGenerator.create(EmbedderConfig.create({ modelPath: process.env.EMBEDDER_MODEL_PATH, cacheSize: 0, dtype: ${JSON.stringify(dtype)}${replicas === undefined ? '' : `, replicas: ${replicas}`} }));
    await generator.embed(texts.slice(0, 64).map((t) => t + ' (warm-up)'));
    let batches;
    generator.onBatch((event) => {
      batches.batches++;
      batches.items += event.size;
      batches.tokens += event.tokens;
      batches.paddedTokens += event.paddedTokens;
    });
    const pass = async (work) => {
      batches = { batches: 0, items: 0, tokens: 0, paddedTokens: 0 };
      const cpu = process.cpuUsage();
      const started = performance.now();
      await work();
      const used = process.cpuUsage(cpu);
      return { seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000, batches };
    };
    const oneCall = await pass(async () => {
      const vectors = await generator.embed(texts);
      if (vectors.length !== texts.length) throw new Error('wrong count');
    });
    let next = 0;
    const callers = await pass(() => Promise.all(Array.from({ length: ${clients} }, async () => {
      while (next < texts.length) await generator.embed([texts[next++]]);
    })));
    process.stdout.write(JSON.stringify({ oneCall, callers }));
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
  return JSON.parse(stdout) as { oneCall: LibraryPass; callers: LibraryPass };
}

async function startServer(dtype: string, profileDir: string | undefined): Promise<{ url: string; replicas: number; child: ChildProcess }> {
  const flags = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = spawn(process.execPath, [...flags, serverEntry], {
    env: childEnv({ EMBEDDER_PORT: '0', EMBEDDER_HOST: '127.0.0.1', EMBEDDER_DTYPE: dtype, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let replicas = 0;
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; replicas?: number };
        if (entry.msg === 'model ready' && entry.replicas) replicas = entry.replicas;
        if (entry.msg === 'ready' && entry.url) resolveUrl(entry.url);
      } catch {
        // not a log line
      }
    });
    child.once('close', (code) => reject(new Error(`server exited ${code} before ready: ${stderr.trim()}`)));
  });
  return { url, replicas, child };
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

/** CPU ms of a server's threads over a pass: its main thread, and the others summed by thread name. */
interface ThreadShares {
  mainMs: number;
  others: Map<string, number>;
}

function threadDelta(pid: number, before: ReturnType<typeof threadCpu>): ThreadShares {
  const after = threadCpu(pid);
  const others = new Map<string, number>();
  let mainMs = 0;
  for (const [tid, { name, ms }] of after) {
    const used = ms - (before.get(tid)?.ms ?? 0);
    if (tid === pid) mainMs = used;
    else others.set(name, (others.get(name) ?? 0) + used);
  }
  return { mainMs, others };
}

/**
 * `clients` loops, each posting one text per request to /embed until every text is done; returns texts/s, and the
 * measured pass's span on the monotonic clock (µs, as CPU profiles count) and the server's CPU per thread.
 */
async function serverThroughput(
  url: string,
  pid: number,
  texts: string[],
  clients: number,
): Promise<{
  embPerS: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  clientCpuMsPerRequest: number;
  spanUs: [number, number];
  threads: ThreadShares;
  batches: BatchTotals;
}> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const endpoint = new URL('/embed', url);
  const post = (text: string) => postJson(agent, endpoint, JSON.stringify({ inputs: text }));
  // Warm-up: connections, JIT, the model's first batches.
  await Promise.all(texts.slice(0, clients).map((text) => post(`${text} (warm-up)`)));
  let next = 0;
  let failed = 0;
  const latencies: number[] = [];
  const batchesBefore = await batchStats(url);
  const threadsBefore = threadCpu(pid);
  const cpuBefore = process.cpuUsage();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
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
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpu = process.cpuUsage(cpuBefore);
  const threads = threadDelta(pid, threadsBefore);
  const batchesAfter = await batchStats(url);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    embPerS: texts.length / seconds,
    seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    failed,
    clientCpuMsPerRequest: (cpu.user + cpu.system) / 1000 / texts.length,
    spanUs: [fromUs, toUs],
    threads,
    batches: {
      batches: batchesAfter.batches - batchesBefore.batches,
      items: batchesAfter.items - batchesBefore.items,
      tokens: batchesAfter.tokens - batchesBefore.tokens,
      paddedTokens: batchesAfter.paddedTokens - batchesBefore.paddedTokens,
    },
  };
}

/** The server's batch counters so far (te_batch_next_*; real tokens from te_request_input_length). */
async function batchStats(url: string): Promise<BatchTotals> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const read = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    batches: read('te_batch_next_size_count'),
    items: read('te_batch_next_size_sum'),
    tokens: read('te_request_input_length_sum'),
    paddedTokens: read('te_batch_next_tokens_sum'),
  };
}

function describeBatches(b: BatchTotals): string {
  return `${b.batches} batches, mean ${(b.items / b.batches).toFixed(1)} texts, ${(b.paddedTokens / b.batches).toFixed(0)} padded tokens, padding efficiency ${((b.tokens / b.paddedTokens) * 100).toFixed(0)}%`;
}

async function run(): Promise<SuiteResult> {
  for (const file of [serverEntry, facadeEntry]) if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`);
  const clients = Number(process.env.BENCH_SERVER_CLIENTS || 64);
  const dtype = process.env.BENCH_SERVER_DTYPE || 'fp32';
  const profileDir = process.env.BENCH_SERVER_CPU_PROF || undefined;
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const all = readFileSync(join(sharedDir, 'data/bench/short.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const texts = all.slice(0, Number(process.env.BENCH_SERVER_TEXTS || all.length));

  const library = await libraryThroughput(texts, dtype, clients);
  const { url, replicas, child } = await startServer(dtype, profileDir);
  let server: Awaited<ReturnType<typeof serverThroughput>>;
  try {
    if (replicas < 1) throw new Error("the server's 'model ready' line did not say how many model replicas it runs");
    server = await serverThroughput(url, child.pid!, texts, clients);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'close');
  }
  // The server runs more model copies than the library by default: the library again with the server's, to say what
  // the copies give and what HTTP costs at equal settings.
  const sameCopies = replicas === 1 ? library : await libraryThroughput(texts, dtype, clients, replicas);
  const libraryEmbPerS = texts.length / library.oneCall.seconds;
  const sameOneCallEmbPerS = texts.length / sameCopies.oneCall.seconds;
  const sameCallersEmbPerS = texts.length / sameCopies.callers.seconds;
  const callersEmbPerS = texts.length / library.callers.seconds;
  const ratio = server.embPerS / libraryEmbPerS;
  const overhead = server.embPerS / sameCallersEmbPerS;
  const round = (x: number) => Math.round(x * 10) / 10;
  const perText = (ms: number) => (ms / texts.length).toFixed(3);
  const meanBatch = (pass: LibraryPass) => round(pass.batches.items / pass.batches.batches);
  const rows: BenchRow[] = [
    {
      system: `library embed(${texts.length} texts) ${dtype}`,
      metrics: { emb_per_s: round(libraryEmbPerS), wall_s: round(library.oneCall.seconds), mean_batch_size: meanBatch(library.oneCall) },
    },
    {
      system: `library, ${clients} in-process callers × 1 text ${dtype}`,
      metrics: { emb_per_s: round(callersEmbPerS), mean_batch_size: meanBatch(library.callers) },
    },
    // The same two at the server's replicas, when they are not the library's own run again.
    ...(sameCopies === library
      ? []
      : [
          {
            system: `library embed(${texts.length} texts), ${replicas} replicas (the server's) ${dtype}`,
            metrics: { emb_per_s: round(sameOneCallEmbPerS), wall_s: round(sameCopies.oneCall.seconds), mean_batch_size: meanBatch(sameCopies.oneCall) },
          },
          {
            system: `library, ${clients} in-process callers, ${replicas} replicas ${dtype}`,
            metrics: { emb_per_s: round(sameCallersEmbPerS), mean_batch_size: meanBatch(sameCopies.callers) },
          },
        ]),
    {
      system: `server /embed, ${clients} clients × 1 text ${dtype} (${replicas} replicas)`,
      metrics: {
        emb_per_s: round(server.embPerS),
        wall_s: round(server.seconds),
        p50_ms: round(server.p50Ms),
        p99_ms: round(server.p99Ms),
        failed: server.failed,
        mean_batch_size: round(server.batches.items / server.batches.batches),
      },
    },
  ];
  let serverCpuMs = server.threads.mainMs;
  for (const ms of server.threads.others.values()) serverCpuMs += ms;
  const others = [...server.threads.others].sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${perText(ms)}`);
  const notes = [
    `server / library throughput ${(ratio * 100).toFixed(1)}%: ${ratio >= 0.85 && server.failed === 0 ? 'PASS' : 'FAIL'} (goal ≥ 85%, no failed requests; the server with ${replicas} replicas (${process.env.EMBEDDER_REPLICAS ? `EMBEDDER_REPLICAS=${process.env.EMBEDDER_REPLICAS}` : 'its default'}), the library with its default 1)`,
    `server / library one call with the server's ${replicas} replicas: ${((server.embPerS / sameOneCallEmbPerS) * 100).toFixed(1)}% (the batching of single texts and HTTP at equal settings)`,
    `server / library with the same ${clients} single-text callers and ${replicas} replicas: ${(overhead * 100).toFixed(1)}% (what HTTP, JSON and the worker thread cost)`,
    `the ${clients} clients (node:http, keep-alive) ran on the same cores: ${server.clientCpuMsPerRequest.toFixed(2)} ms of CPU per request`,
    `CPU ms per text (valid on a busy machine too): library one call ${perText(library.oneCall.cpuMs)}, ${clients} in-process callers (${replicas} replicas) ${perText(sameCopies.callers.cpuMs)}, server ${perText(serverCpuMs)} = main thread ${perText(server.threads.mainMs)} + ${others.join(' + ')} (threads by name, /proc)`,
    `batches: library one call ${describeBatches(library.oneCall.batches)}; ${clients} in-process callers (${replicas} replicas) ${describeBatches(sameCopies.callers.batches)}; server ${describeBatches(server.batches)}`,
  ];
  if (profileDir !== undefined) {
    // The main thread's, and a worker's when a build runs its workers with --cpu-prof too.
    for (const [threadId, profile] of [...readProfiles(profileDir, child.pid!)].sort((a, b) => a[0] - b[0])) {
      const thread = threadId === 0 ? 'server main thread' : `server worker thread ${threadId}`;
      const summary = summariseProfile(profile, server.spanUs[0], server.spanUs[1]);
      notes.push(
        `${thread} by phase (node --cpu-prof, measured pass only), ms per text: ${summary.phases.map(([phase, ms]) => `${phase} ${perText(ms)}`).join(', ')}; sampled ${perText(summary.busyMs)}`,
        `${thread}, most self time (ms per text): ${summary.topFrames.map(([frame, ms]) => `${frame} ${perText(ms)}`).join('; ')}`,
      );
    }
  }
  return {
    suite: 'server',
    description: `${texts.length} texts of data/bench/short.txt, cache off: the library in one call vs the built server under ${clients} concurrent single-text clients (both in child processes, same run)`,
    rows,
    notes,
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
