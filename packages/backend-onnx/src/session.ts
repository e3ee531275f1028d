import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import {
  assertBatchShape,
  EmbedderError,
  type DeviceReport,
  poolBatch,
  type BackendSession,
  type ModelSpec,
  type SessionInfo,
  type SessionOptions,
  type TokenizedBatch,
} from '@embedder-rag/core';
import { candidateDevices, executionProviders, explainDeviceFailure, maxAbsDifference, probeBatch } from './device';
import { createRowwiseFile, ROWWISE_FILE, rowwiseCachePath } from '@embedder-rag/quantize';
import { loadInThreadReplica, loadWorkerReplica, type Replica } from './replicas';

/**
 * ONNX files per dtype, in order of preference (the names optimum and transformers.js publish). `q8` is the
 * row-wise file (@embedder-rag/quantize), made from the fp32 one into the cache when the folder has none;
 * `q8-dynamic` is the published per-tensor int8 file.
 */
export const ONNX_FILES: Readonly<Record<SessionOptions['dtype'], readonly string[]>> = {
  fp32: ['onnx/model.onnx', 'model.onnx'],
  q8: [ROWWISE_FILE],
  'q8-dynamic': ['onnx/model_quantized.onnx', 'onnx/model_int8.onnx', 'onnx/model_qint8_avx512.onnx', 'model_quantized.onnx'],
};

/** The ONNX file of a model folder for a dtype: the first of {@link ONNX_FILES} that exists. */
export async function findOnnxFile(dir: string, dtype: SessionOptions['dtype']): Promise<string> {
  const candidates = ONNX_FILES[dtype];
  if (!candidates) throw new EmbedderError('INVALID_CONFIG', `unknown dtype '${String(dtype)}' (accepted: ${Object.keys(ONNX_FILES).join(', ')})`);
  for (const candidate of candidates) {
    const file = join(dir, candidate);
    try {
      await access(file);
      return file;
    } catch {
      // try the next name
    }
  }
  throw new EmbedderError('MODEL_INVALID', `${dir} has no ONNX weights for dtype ${dtype} (looked for ${candidates.join(', ')})`, {
    details: { dir, dtype, candidates },
  });
}

/** `count` replicas with these options, or why they could not load (those that did are released). */
async function loadReplicas(
  ort: typeof Ort,
  file: string,
  sessionOptions: Ort.InferenceSession.SessionOptions,
  count: number,
): Promise<{ replicas: Replica[]; reason?: undefined } | { replicas?: undefined; reason: unknown }> {
  const loaded = await Promise.allSettled(
    Array.from({ length: count }, () => (count === 1 ? loadInThreadReplica(ort, file, sessionOptions) : loadWorkerReplica(file, sessionOptions))),
  );
  const replicas = loaded.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = loaded.find((result) => result.status === 'rejected');
  if (failure === undefined) return { replicas };
  await Promise.all(replicas.map((replica) => replica.release()));
  return { reason: failure.reason };
}

/**
 * The row-wise q8 file: the folder's own, else one made earlier from its fp32 file in the cache, else made now
 * (calibrated with the model's tokeniser when the caller passes one; a few seconds for all-MiniLM-L6-v2).
 */
async function rowwiseOnnxFile(ort: typeof Ort, dir: string, options: SessionOptions): Promise<string> {
  const own = join(dir, ROWWISE_FILE);
  if (await exists(own)) return own;
  const fp32 = await findOnnxFile(dir, 'fp32');
  const cached = await rowwiseCachePath(fp32);
  if (await exists(cached)) return cached;
  options.logger?.info('making the row-wise q8 file from the fp32 one (once per model)', { source: fp32, file: cached });
  await createRowwiseFile(ort, fp32, cached, { ...(options.tokenize ? { tokenize: options.tokenize } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  return cached;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

const HIDDEN_STATE_OUTPUTS = ['last_hidden_state', 'token_embeddings'];
const POOLED_OUTPUTS = ['sentence_embedding', 'pooler_output'];
/** Inputs an exported encoder may take; each export takes a subset (T5, XLM-R and MPNet have no token_type_ids). */
const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'];
/** Families whose absolute positions count from padding_idx + 1 over real tokens (transformers' create_position_ids_from_input_ids). */
const PADDING_OFFSET_POSITIONS = ['roberta', 'xlm-roberta', 'mpnet', 'camembert'];

/**
 * position_ids for a graph that takes them: 0, 1, … per row, or, for the RoBERTa-style families, padding_idx + 1 + i
 * over real tokens and padding_idx on padding.
 */
function positionIds(batch: TokenizedBatch, model: ModelSpec): BigInt64Array {
  const ids = new BigInt64Array(batch.batchSize * batch.sequenceLength);
  const padIndex = Number(model.config.pad_token_id ?? 1);
  const offset = PADDING_OFFSET_POSITIONS.includes(model.architecture);
  for (let b = 0; b < batch.batchSize; b++) {
    let position = offset ? padIndex : -1;
    for (let t = 0; t < batch.sequenceLength; t++) {
      const at = b * batch.sequenceLength + t;
      if (!offset) ids[at] = BigInt(t);
      else ids[at] = batch.attentionMask[at] === 0n ? BigInt(padIndex) : BigInt(++position);
    }
  }
  return ids;
}

/**
 * A model loaded in onnxruntime-node: one replica on the calling thread, or several on worker threads that run
 * batches side by side (each on its share of the threads).
 */
export class OnnxSession implements BackendSession {
  readonly info: SessionInfo;
  readonly dimension: number;
  readonly concurrency: number;
  readonly #replicas: readonly Replica[];
  readonly #idle: Replica[];
  readonly #waiting: ((replica: Replica) => void)[] = [];
  readonly #model: ModelSpec;
  readonly #inputNames: readonly string[];
  readonly #outputName: string;
  /** Positions the model has (config.json max_position_embeddings); models with relative positions have no limit. */
  readonly #maxPositions: number;
  #disposed = false;

  private constructor(replicas: readonly Replica[], model: ModelSpec, info: SessionInfo) {
    this.#replicas = replicas;
    this.#idle = [...replicas];
    this.concurrency = replicas.length;
    this.#model = model;
    this.info = info;
    // The pooled size: Dense modules after pooling run in core's withPostPooling, for every backend alike.
    this.dimension = model.hiddenSize;
    const positions = Number(model.config.max_position_embeddings);
    this.#maxPositions = Number.isInteger(positions) && positions > 0 ? positions : Number.POSITIVE_INFINITY;
    const first = replicas[0]!;
    this.#inputNames = first.inputNames;
    this.#outputName = HIDDEN_STATE_OUTPUTS.find((name) => first.outputNames.includes(name)) ?? first.outputNames[0]!;
  }

  /**
   * Loads the model's ONNX file for `options.dtype`: `options.replicas` copies (default 1), each with
   * `options.intraOpThreads` threads. More than one runs each copy on its own worker thread.
   */
  static async load(ort: typeof Ort, runtime: string, model: ModelSpec, options: SessionOptions): Promise<OnnxSession> {
    const file = options.dtype === 'q8' ? await rowwiseOnnxFile(ort, model.dir, options) : await findOnnxFile(model.dir, options.dtype);
    const { size } = await stat(file);
    const threads = options.intraOpThreads;
    const replicaCount = options.replicas ?? 1;
    if (!Number.isInteger(replicaCount) || replicaCount < 1) {
      throw new EmbedderError('INVALID_CONFIG', `replicas must be a whole number >= 1, got ${replicaCount}`);
    }
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      // 'extended' runs as fast as 'all' on BERT-style encoders (measured: q8 short corpus 1,008 vs 985 emb/s) and
      // creates the session faster (q8 51 vs 95 ms, fp32 128 vs 205 ms): 'all' only adds layout passes for convolutions.
      graphOptimizationLevel: 'extended',
      enableCpuMemArena: options.memoryArena ?? true,
      // Memory patterns (one planned block per input shape) made resident memory creep with every batch shape, even
      // repeated ones: 1,152 distinct shapes run twice grew RssAnon 188 -> 235 MB with them and held 170-173 MB
      // without; throughput within noise (q8 short 658 vs 628 emb/s, fp32 mixed 34-40 vs 36-39) and peak RSS on the
      // mixed corpus 503 vs 622 MB. Varying shapes are the norm here: every batch is cut to its texts' lengths.
      enableMemPattern: false,
      executionMode: 'sequential',
      ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
      interOpNumThreads: options.interOpThreads ?? 1,
      // Spinning worker threads win nothing on a quiet machine and lose 50-80% of fp32 throughput when another
      // process wants the same cores (measured with pnpm bench throughput under load).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    // Each candidate device on its own: onnxruntime does not fall back when a listed provider fails to load.
    const report: DeviceReport = { requested: options.device, used: 'cpu', skipped: [] };
    let replicas: Replica[] | undefined;
    for (const device of candidateDevices(options.device)) {
      const attempt = await loadReplicas(ort, file, { ...sessionOptions, executionProviders: executionProviders(device) }, replicaCount);
      if (attempt.replicas !== undefined) {
        replicas = attempt.replicas;
        report.used = device;
        break;
      }
      const reason = attempt.reason instanceof Error ? attempt.reason.message : String(attempt.reason);
      if (device === 'cpu') {
        throw new EmbedderError('MODEL_INVALID', `${file} (${size} bytes) could not be loaded by onnxruntime: ${reason.split('\n')[0]}`, {
          cause: attempt.reason,
          details: { file },
        });
      }
      const why = explainDeviceFailure(device, attempt.reason);
      if (options.device !== 'auto') {
        throw new EmbedderError('BACKEND_UNAVAILABLE', `device '${device}' cannot be used: ${why}`, { cause: attempt.reason, details: { device } });
      }
      report.skipped.push(`${device}: ${why}`);
    }
    if (replicas === undefined) throw new EmbedderError('BACKEND_UNAVAILABLE', `no device could run ${file}`);
    if (report.skipped.length > 0) options.logger?.warn('onnx: GPU not used, running on the CPU', { model: model.id, skipped: report.skipped });
    const inputNames = replicas[0]!.inputNames;
    const unknown = inputNames.filter((name) => !KNOWN_INPUTS.includes(name));
    if (unknown.length > 0 || !inputNames.includes('input_ids')) {
      await Promise.all(replicas.map((replica) => replica.release()));
      throw new EmbedderError('MODEL_INVALID', `${file} takes inputs ${inputNames.join(', ')}; expected input_ids and any of attention_mask, token_type_ids, position_ids`, {
        details: { file, inputs: inputNames },
      });
    }
    const session = new OnnxSession(replicas, model, {
      backend: 'onnx',
      runtime,
      dtype: options.dtype,
      device: options.device,
      modelFile: file,
      inputNames: [...inputNames],
      ...(threads === undefined ? {} : { intraOpThreads: threads }),
      replicas: replicaCount,
      deviceReport: report,
    });
    if (report.used !== 'cpu') {
      // GPU kernels round differently: compare a probe batch with the CPU's and report the largest difference.
      const cpu = await OnnxSession.load(ort, runtime, model, { ...options, device: 'cpu', replicas: 1 });
      try {
        report.gpuMaxAbsDiff = await maxAbsDifference(session, cpu, probeBatch(model));
        options.logger?.info('onnx: GPU vectors against the CPU', { model: model.id, device: report.used, maxAbsDiff: report.gpuMaxAbsDiff });
      } finally {
        await cpu.dispose();
      }
    }
    return session;
  }

  async run(batch: TokenizedBatch): Promise<Float32Array> {
    if (this.#disposed) throw new EmbedderError('DISPOSED', 'the onnx session was disposed');
    assertBatchShape(batch, this.#maxPositions);
    const inputs: Record<string, BigInt64Array> = {};
    for (const name of this.#inputNames) {
      if (name === 'input_ids') inputs[name] = batch.inputIds;
      else if (name === 'attention_mask') inputs[name] = batch.attentionMask;
      else if (name === 'token_type_ids') inputs[name] = batch.tokenTypeIds;
      else inputs[name] = positionIds(batch, this.#model);
    }
    const replica = await this.#acquire();
    let output: Awaited<ReturnType<Replica['run']>>;
    try {
      output = await replica.run(inputs, [batch.batchSize, batch.sequenceLength], this.#outputName);
    } catch (error) {
      if (this.#disposed) throw new EmbedderError('DISPOSED', 'the onnx session was disposed', { cause: error });
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmbedderError('INFERENCE_FAILED', `onnxruntime failed on a batch of ${batch.batchSize}x${batch.sequenceLength}: ${reason}`, { cause: error });
    } finally {
      this.#releaseReplica(replica);
    }
    try {
      const { data, dims } = output;
      if (dims.length === 2 || POOLED_OUTPUTS.includes(this.#outputName)) return Float32Array.from(data);
      // Pooling reads the runtime's output buffer directly: no copy of the [batch, seq, hidden] tensor.
      return poolBatch(data, batch, dims[2]!, this.#model.pooling);
    } finally {
      output.release();
    }
  }

  /** An idle replica, waiting for one when all are busy. */
  #acquire(): Promise<Replica> {
    const replica = this.#idle.pop();
    if (replica) return Promise.resolve(replica);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #releaseReplica(replica: Replica): void {
    const next = this.#waiting.shift();
    if (next) next(replica);
    else this.#idle.push(replica);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all(this.#replicas.map((replica) => replica.release()));
  }
}
