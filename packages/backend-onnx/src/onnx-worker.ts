/**
 * Worker thread that owns one onnxruntime session (one replica of {@link OnnxSession}). onnxruntime-node runs a
 * session on the thread that calls run(), so replicas on their own threads are the only way to run batches side by
 * side. It runs the model and hands back the chosen output; pooling stays on the calling thread. Plain
 * type-strippable TypeScript with package imports only, so Node runs it from src/ (tests) and from dist/ alike.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';

/** What the session's creator passes: the model file and the onnxruntime session options, built on its side. */
export interface ReplicaInit {
  file: string;
  sessionOptions: Ort.InferenceSession.SessionOptions;
}

/** One batch: int64 inputs by name and the output wanted. */
export interface ReplicaCall {
  id: number;
  inputs: Record<string, BigInt64Array>;
  dims: number[];
  output: string;
}

export type ReplicaReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'error'; id: number; message: string };

const port = parentPort!;
const init = workerData as ReplicaInit;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  let ort: typeof Ort;
  let session: Ort.InferenceSession;
  try {
    const loaded = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
    ort = loaded.InferenceSession ? loaded : loaded.default!;
    session = await ort.InferenceSession.create(init.file, init.sessionOptions);
  } catch (error) {
    port.postMessage({ type: 'failed', message: message(error) } satisfies ReplicaReply);
    return;
  }
  port.postMessage({ type: 'ready', inputNames: [...session.inputNames], outputNames: [...session.outputNames] } satisfies ReplicaReply);
  port.on('message', (call: ReplicaCall) => {
    void run(ort, session, call);
  });
}

async function run(ort: typeof Ort, session: Ort.InferenceSession, call: ReplicaCall): Promise<void> {
  try {
    const feeds: Record<string, Ort.Tensor> = {};
    for (const [name, data] of Object.entries(call.inputs)) feeds[name] = new ort.Tensor('int64', data, call.dims);
    const outputs = await session.run(feeds, [call.output]);
    const output = outputs[call.output]!;
    // One copy into a buffer this thread owns, which then moves to the caller without another.
    const data = new Float32Array(output.data as Float32Array);
    const dims = output.dims.map(Number);
    output.dispose();
    port.postMessage({ type: 'result', id: call.id, data, dims } satisfies ReplicaReply, [data.buffer]);
  } catch (error) {
    port.postMessage({ type: 'error', id: call.id, message: message(error) } satisfies ReplicaReply);
  }
}

void main();
