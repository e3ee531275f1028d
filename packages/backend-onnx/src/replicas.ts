import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { EmbedderError } from '@embedder-rag/core';
import type { ReplicaCall, ReplicaInit, ReplicaReply } from './onnx-worker';

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

interface PendingCall {
  resolve(output: ReplicaOutput): void;
  reject(error: Error): void;
}

/** A session on its own worker thread: batches on different replicas run side by side. */
export async function loadWorkerReplica(file: string, sessionOptions: Ort.InferenceSession.SessionOptions): Promise<Replica> {
  const worker = new Worker(workerScript(), { workerData: { file, sessionOptions } satisfies ReplicaInit });
  const names = await new Promise<{ inputNames: string[]; outputNames: string[] }>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`the onnxruntime worker exited with code ${code} while loading`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (reply: ReplicaReply) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (reply.type === 'ready') resolve(reply);
      else reject(new Error(reply.type === 'failed' ? reply.message : `unexpected '${reply.type}' from the onnxruntime worker`));
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  const pending = new Map<number, PendingCall>();
  let nextId = 0;
  let broken: Error | undefined;
  const failAll = (error: Error): void => {
    broken ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('message', (reply: ReplicaReply) => {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.type === 'result') call?.resolve({ data: reply.data, dims: reply.dims, release: () => {} });
    else call?.reject(new Error(reply.message));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new EmbedderError('DISPOSED', `the onnxruntime worker has stopped (exit code ${code})`)));
  // An idle replica does not keep the process alive, as a session on the calling thread would not.
  worker.unref();

  return {
    inputNames: names.inputNames,
    outputNames: names.outputNames,
    run(inputs, dims, output) {
      if (broken) return Promise.reject(broken);
      const id = nextId++;
      return new Promise<ReplicaOutput>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, inputs, dims, output } satisfies ReplicaCall);
      });
    },
    async release() {
      await worker.terminate();
    },
  };
}
