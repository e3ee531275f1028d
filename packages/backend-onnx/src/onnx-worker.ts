/**
 * Worker thread that owns one onnxruntime session (one replica of {@link OnnxSession}). onnxruntime-node runs a
 * session on the thread that calls run(), so replicas on their own threads are the only way to run batches side by
 * side. It runs the model and hands back the chosen output; pooling stays on the calling thread. Plain
 * type-strippable TypeScript with package imports only, so Node runs it from src/ (tests) and from dist/ alike.
 */
import { workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { serveChannel } from '@embedder-rag/worker-channel';

/** What the session's creator passes: the model file and the onnxruntime session options, built on its side. */
export interface ReplicaInit {
  file: string;
  sessionOptions: Ort.InferenceSession.SessionOptions;
}

/** The session's names, answered to start. */
export interface ReplicaReady {
  inputNames: string[];
  outputNames: string[];
}

/** One batch: int64 inputs by name and the output wanted; the answer is that output (moved, not copied). */
export type ReplicaCalls = {
  run: {
    payload: { inputs: Record<string, BigInt64Array>; dims: number[]; output: string };
    result: { data: Float32Array; dims: number[] };
  };
};

const init = workerData as ReplicaInit;

serveChannel<ReplicaCalls, ReplicaReady>(async () => {
  const loaded = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
  const ort = loaded.InferenceSession ? loaded : loaded.default!;
  const session = await ort.InferenceSession.create(init.file, init.sessionOptions);
  return {
    ready: { inputNames: [...session.inputNames], outputNames: [...session.outputNames] },
    handlers: {
      async run({ inputs, dims, output: name }, call) {
        const feeds: Record<string, Ort.Tensor> = {};
        for (const [input, data] of Object.entries(inputs)) feeds[input] = new ort.Tensor('int64', data, dims);
        const output = (await session.run(feeds, [name]))[name]!;
        // One copy into a buffer this thread owns, which then moves to the caller without another.
        const data = new Float32Array(output.data as Float32Array);
        const outputDims = output.dims.map(Number);
        output.dispose();
        call.transfer.push(data.buffer);
        return { data, dims: outputDims };
      },
    },
  };
});
