import { EmbedderError } from './errors';
import type { Logger } from './logger';
import type { ModelSpec } from './models';
import type { Device, Dtype, ResolvedDevice } from './types';

/**
 * A tokenized batch, padded to its longest text: row-major [batchSize × sequenceLength] int64 arrays, the layout
 * ONNX BERT models take as they are (no copy on the hot path).
 */
export interface TokenizedBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batchSize: number;
  sequenceLength: number;
  /**
   * The mask pooling uses when it differs from attentionMask: prompt tokens set to 0 for models whose Pooling says
   * include_prompt false (the encoder still attends to them). Absent: pool over attentionMask.
   */
  poolingMask?: BigInt64Array;
}

/** How a backend should run a model. */
export interface SessionOptions {
  /** @default 'fp32' */
  dtype: Dtype;
  /** @default 'cpu' */
  device: Device;
  /** Threads inside one operator; default: the cores available. */
  intraOpThreads?: number;
  /** Threads across operators; default 1. */
  interOpThreads?: number;
  /**
   * Copies of the model that run batches side by side, each on its share of intraOpThreads (backends that cannot
   * run batches at once use 1). @default 1
   */
  replicas?: number;
  /** Keep the runtime's memory arena (faster, holds memory between batches). @default true */
  memoryArena?: boolean;
  /**
   * The model's tokeniser (texts -> one padded batch), for backends that prepare weights at load: the onnx backend
   * calibrates the row-wise q8 file with it when it has to make one.
   */
  tokenize?: (texts: readonly string[]) => TokenizedBatch;
  logger?: Logger;
}

/** Which device a session asked for, which it runs on, and why (shown in getStats(), /info, a metric). */
export interface DeviceReport {
  requested: Device;
  used: ResolvedDevice;
  /** Devices tried before `used` and why each could not be used (`auto` falling back), e.g. `cuda: …`. */
  skipped: string[];
  /** On a GPU: the largest absolute difference between its vectors and the CPU's on a probe batch. */
  gpuMaxAbsDiff?: number;
}

/** What a session reports about itself (shown in getStats() and the server's /info). */
export interface SessionInfo {
  /** Backend name, e.g. `onnx` or `tfjs`. */
  backend: string;
  /** The runtime underneath, e.g. `onnxruntime-node 1.23.0` or `tfjs wasm (simd)`. */
  runtime: string;
  dtype: Dtype;
  device: Device;
  /** The weights file the session loaded. */
  modelFile: string;
  /** Model input names in the order the model declares them. */
  inputNames: readonly string[];
  /** Threads inside one operator, per replica. */
  intraOpThreads?: number;
  /** Copies of the model running batches side by side. */
  replicas?: number;
  /** Device selection; absent = ran where `device` says (backends without a choice). */
  deviceReport?: DeviceReport;
}

/** A model loaded in a backend, ready to run batches. */
export interface BackendSession {
  readonly info: SessionInfo;
  /** Length of each output vector. */
  readonly dimension: number;
  /** run() calls the session executes at once; callers keep this many batches in flight. @default 1 */
  readonly concurrency?: number;
  /**
   * Runs a batch and returns the pooled (not normalised) vectors, row-major [batchSize × dimension].
   * Throws EmbedderError INFERENCE_FAILED on a runtime failure.
   */
  run(batch: TokenizedBatch): Promise<Float32Array>;
  /** Runs a tiny batch so the first real request is not slow. Optional: {@link warmupSession} has a default. */
  warmup?(): Promise<void>;
  /** Releases native memory. Further run() calls throw DISPOSED. */
  dispose(): Promise<void>;
}

/** A way to run models (ONNX Runtime, TensorFlow.js, …). */
export interface Backend {
  readonly name: string;
  /**
   * Weight files this backend needs for a dtype, relative to the model folder: each inner list holds
   * alternatives in order of preference, one of which must exist (e.g. `[['model.safetensors', 'pytorch_model.bin']]`).
   * Model resolution downloads the first alternative the Hub has.
   */
  weightFiles(dtype: Dtype): readonly (readonly string[])[];
  /** Loads the native library. Throws EmbedderError BACKEND_UNAVAILABLE with the reason when it cannot. */
  init(): Promise<void>;
  /** Loads a model. Throws MODEL_INVALID / MODEL_NOT_FOUND when its files are missing or corrupt. */
  createSession(model: ModelSpec, options: SessionOptions): Promise<BackendSession>;
  /** Facts about the runtime chosen at init (for logs and /info). */
  describe?(): Record<string, unknown>;
}

/**
 * What a backend package exports (via a factory): importing a backend never registers it; the app or the user
 * passes this to a {@link BackendRegistry}.
 */
export interface BackendRegistration {
  name: string;
  /** Higher is tried first when no backend is asked for. */
  priority: number;
  create(): Backend | Promise<Backend>;
}

/**
 * Runs the session's own warmup, or `batch` (made by the model's own tokenizer, so its ids are the model's) when it
 * has none: `concurrency` of them at once, so every replica of the model is warm.
 */
export async function warmupSession(session: BackendSession, batch: TokenizedBatch): Promise<void> {
  if (session.warmup) return session.warmup();
  await Promise.all(Array.from({ length: session.concurrency ?? 1 }, () => session.run(batch)));
}

/**
 * Checks a batch before it reaches a runtime, so a malformed batch fails with a clear error instead of a runtime
 * message: at least one text of one token, arrays of batchSize × sequenceLength, and no more tokens per text than
 * the model has positions (config.json max_position_embeddings).
 */
export function assertBatchShape(batch: TokenizedBatch, maxPositions: number): void {
  const { batchSize, sequenceLength } = batch;
  if (!(batchSize >= 1 && sequenceLength >= 1)) {
    throw new EmbedderError('INVALID_INPUT', `empty batch (${batchSize} texts × ${sequenceLength} tokens): nothing to embed`);
  }
  if (sequenceLength > maxPositions) {
    throw new EmbedderError('INPUT_TOO_LONG', `a batch of ${sequenceLength} tokens per text exceeds the model's ${maxPositions} positions (max_position_embeddings)`, {
      details: { tokens: sequenceLength, limit: maxPositions },
    });
  }
  const size = batchSize * sequenceLength;
  for (const [name, array] of [['inputIds', batch.inputIds], ['attentionMask', batch.attentionMask], ['tokenTypeIds', batch.tokenTypeIds], ['poolingMask', batch.poolingMask ?? batch.attentionMask]] as const) {
    if (array.length !== size) {
      throw new EmbedderError('INVALID_INPUT', `${name} has ${array.length} values, expected ${batchSize}×${sequenceLength}`);
    }
  }
}
