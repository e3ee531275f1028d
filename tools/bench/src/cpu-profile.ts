import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this module reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  /** Microseconds, on the machine's monotonic clock (the one process.hrtime reads). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a thread's CPU went, by phase, over a time window of a profile. */
export interface ProfileSummary {
  /** Sampled time in the window, idle excluded, in ms. */
  busyMs: number;
  /** Phase → ms, largest first; a sample counts for the innermost frame that names a phase. */
  phases: [string, number][];
  /** The frames with the most self time (`name file:line` → ms), largest first. */
  topFrames: [string, number][];
}

/**
 * Phases of the server's main thread, tried from the innermost frame of each sample outwards: the first frame a
 * rule names decides. Package paths match both pnpm's node_modules/.pnpm layout and workspace dist files.
 */
const PHASE_RULES: [string, (url: string, fn: string) => boolean][] = [
  ['gc', (url, fn) => fn === '(garbage collector)'],
  ['logging (pino)', (url) => /\/(pino|pino-std-serializers|sonic-boom|thread-stream)\//.test(url)],
  ['metrics (prom-client)', (url) => url.includes('/prom-client/')],
  ['validation (ajv)', (url, fn) => /\/(ajv|ajv-formats|@fastify\/ajv-compiler)\//.test(url) || (url === '' && /^validate/.test(fn))],
  ['body parsing (JSON.parse)', (url) => url.includes('/secure-json-parse/') || url.includes('/fastify/lib/contentTypeParser')],
  ['routing (find-my-way)', (url) => url.includes('/find-my-way/')],
  ['response JSON (server serializer)', (url, fn) => url.includes('apps/server/dist') && /serialize|Vectors|float32/i.test(fn)],
  ['worker channel (postMessage, clone, replies)', (url) => url.includes('worker-channel/dist') || /node:internal\/(worker|per_context\/messageport)/.test(url)],
  ['server code (routes, inference, models)', (url) => url.includes('apps/server/dist')],
  // The model thread's own work (a worker's profile): each package is a phase.
  ['onnxruntime (session.run)', (url) => url.includes('/onnxruntime-node/') || url.includes('/onnxruntime-common/') || url.includes('backend-onnx/dist')],
  ['tokenizer', (url) => url.includes('tokenizer/dist')],
  ['scheduler (@embedder-rag/batch)', (url) => url.includes('batch/dist')],
  ['library code (@embedder-rag/*)', (url) => /packages\/[a-z-]+\/dist/.test(url)],
  ['fastify (hooks, reply, request)', (url) => /\/(fastify|avvio|light-my-request|@fastify\/[a-z-]+|fast-json-stringify|process-warning|abstract-logging|toad-cache|rfdc)\//.test(url)],
  ['HTTP (node:http, net, streams)', (url) => /^node:(_http|http|net|internal\/(http|streams|stream_base_commons|net|timers))/.test(url) || /^node:(stream|events|buffer)/.test(url)],
  ['node (other internals)', (url) => url.startsWith('node:')],
];

function phaseOf(url: string, fn: string): string | undefined {
  for (const [name, matches] of PHASE_RULES) if (matches(url, fn)) return name;
  return undefined;
}

/**
 * Sums a profile's samples between `fromUs` and `toUs` (the profile's clock) by phase. A sample lasts until the
 * next one (V8's own convention in DevTools); `(idle)` is left out, `(program)` is native time outside JS
 * (libuv, the HTTP parser's C side, syscalls) and is its own phase.
 */
export function summariseProfile(profile: CpuProfile, fromUs = -Infinity, toUs = Infinity): ProfileSummary {
  const parent = new Map<number, number>();
  const byId = new Map<number, CpuProfile['nodes'][number]>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const phaseById = new Map<number, string>();
  const phaseOfNode = (id: number): string => {
    const known = phaseById.get(id);
    if (known !== undefined) return known;
    let phase = 'other JS';
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(program)' || leaf.functionName === '(idle)' || leaf.functionName === '(root)') phase = leaf.functionName;
    else {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        const named = phaseOf(frame.url, frame.functionName);
        if (named !== undefined) {
          phase = named;
          break;
        }
      }
    }
    phaseById.set(id, phase);
    return phase;
  };
  const totals = new Map<string, number>();
  const frames = new Map<string, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const lasts = profile.timeDeltas[i + 1] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const phase = phaseOfNode(profile.samples[i]!);
    if (phase === '(idle)') continue;
    totals.set(phase, (totals.get(phase) ?? 0) + lasts / 1000);
    const frame = byId.get(profile.samples[i]!)!.callFrame;
    const where = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(apps|packages)\//, '$1/')}:${frame.lineNumber + 1}`;
    frames.set(where, (frames.get(where) ?? 0) + lasts / 1000);
  }
  const phases = [...totals].sort((a, b) => b[1] - a[1]);
  const topFrames = [...frames].sort((a, b) => b[1] - a[1]).slice(0, 25);
  return { busyMs: phases.reduce((sum, [, ms]) => sum + ms, 0), phases, topFrames };
}

/**
 * The profiles `node --cpu-prof --cpu-prof-dir=dir` wrote for process `pid`, by thread id: files are named
 * CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile, the main thread being thread 0 (a worker thread writes its
 * own only when its execArgv has --cpu-prof too).
 */
export function readProfiles(dir: string, pid: number): Map<number, CpuProfile> {
  const profiles = new Map<number, CpuProfile>();
  for (const name of readdirSync(dir)) {
    const match = new RegExp(`\\.${pid}\\.(\\d+)\\.\\d+\\.cpuprofile$`).exec(name);
    if (match) profiles.set(Number(match[1]), JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile);
  }
  return profiles;
}

/** CPU time of each thread of a process (Linux /proc schedstat, ns precision), by thread id, with its name. */
export function threadCpu(pid: number): Map<number, { name: string; ms: number }> {
  const threads = new Map<number, { name: string; ms: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.set(Number(tid), { name, ms: ns / 1e6 });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}
