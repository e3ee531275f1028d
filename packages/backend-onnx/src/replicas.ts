import { existsSync } from 'node:fs';
import type * as Ort from 'onnxruntime-node';
import { WorkerChannel } from '@embedder-rag/worker-channel';
import type { ReplicaCalls, ReplicaInit, ReplicaReady } from './onnx-worker';

/** One output of a run: its values, its shape, and release() once they have been read. */
export interface ReplicaOutput {
  data: Float32Array;
  dims: readonly number[];
  release(): void;
}

/** One copy of the model that runs one batch at a time. */
export interface Replica {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(inputs: Record<string, BigInt64Array>, dims: number[], output: string): Promise<ReplicaOutput>;
  release(): Promise<void>;
}

/** A session on the calling thread: no copies, but run() blocks this thread while the model runs. */
export async function loadInThreadReplica(ort: typeof Ort, file: string, sessionOptions: Ort.InferenceSession.SessionOptions): Promise<Replica> {
  const session = await ort.InferenceSession.create(file, sessionOptions);
  return {
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    async run(inputs, dims, outputName) {
      const feeds: Record<string, Ort.Tensor> = {};
      for (const [name, data] of Object.entries(inputs)) feeds[name] = new ort.Tensor('int64', data, dims);
      const output = (await session.run(feeds, [outputName]))[outputName]!;
      return { data: output.data as Float32Array, dims: output.dims.map(Number), release: () => output.dispose() };
    },
    release: () => session.release(),
  };
}

/** The worker script beside this module: onnx-worker.js when built, onnx-worker.ts when run from sources. */
function workerScript(): URL {
  const built = new URL('./onnx-worker.js', import.meta.url);
  return existsSync(built) ? built : new URL('./onnx-worker.ts', import.meta.url);
}

/** A session on its own worker thread: batches on different replicas run side by side. */
export async function loadWorkerReplica(file: string, sessionOptions: Ort.InferenceSession.SessionOptions): Promise<Replica> {
  const channel = await WorkerChannel.start<ReplicaCalls, ReplicaReady>(workerScript(), {
    name: 'the onnxruntime worker',
    workerData: { file, sessionOptions } satisfies ReplicaInit,
    // No inherited flags: a test runner's export conditions would make the worker load workspace sources.
    execArgv: [],
    // An idle replica does not keep the process alive, as a session on the calling thread would not.
    unrefWhenIdle: true,
  });
  return {
    inputNames: channel.ready.inputNames,
    outputNames: channel.ready.outputNames,
    async run(inputs, dims, output) {
      const result = await channel.call('run', { inputs, dims, output });
      return { data: result.data, dims: result.dims, release: () => {} };
    },
    release: () => channel.close(),
  };
}
