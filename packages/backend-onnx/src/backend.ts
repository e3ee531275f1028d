import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { EmbedderError, type Backend, type BackendSession, type Dtype, type ModelSpec, type SessionOptions } from '@embedder-rag/core';
import { ONNX_FILES, OnnxSession } from './session';

/** The ONNX Runtime backend: onnxruntime-node, loaded on init(). */
export class OnnxBackend implements Backend {
  readonly name = 'onnx';
  #ort: typeof Ort | undefined;
  #runtime = 'onnxruntime-node';
  #sessionMade = false;

  weightFiles(dtype: Dtype): readonly (readonly string[])[] {
    // q8 can be made from the fp32 file when the folder (or the Hub) has no row-wise one.
    return [dtype === 'q8' ? [...ONNX_FILES.q8, ...ONNX_FILES.fp32] : (ONNX_FILES[dtype] ?? [])];
  }

  async init(): Promise<void> {
    if (this.#ort) return;
    try {
      const ort = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
      this.#ort = ort.InferenceSession ? ort : ort.default!;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmbedderError('BACKEND_UNAVAILABLE', `onnxruntime-node could not be loaded: ${reason}`, { cause: error });
    }
    const version = (this.#ort.env as { versions?: { node?: string } }).versions?.node;
    this.#runtime = version ? `onnxruntime-node ${version}` : 'onnxruntime-node';
  }

  async createSession(model: ModelSpec, options: SessionOptions): Promise<BackendSession> {
    if (!this.#ort) await this.init();
    // A GPU provider that cannot load makes onnxruntime log a multi-line native error before it throws; the
    // session explains the failure in one line instead. The level applies once, when the first session is made.
    if (options.device !== 'cpu' && !this.#sessionMade) this.#ort!.env.logLevel = 'fatal';
    this.#sessionMade = true;
    // intraOpThreads is the total: each replica gets its share.
    const replicas = options.replicas ?? 1;
    const threads = options.intraOpThreads ?? availableParallelism();
    return OnnxSession.load(this.#ort!, this.#runtime, model, {
      ...options,
      replicas,
      intraOpThreads: Math.max(1, Math.floor(threads / replicas)),
    });
  }

  describe(): Record<string, unknown> {
    return { runtime: this.#runtime, cores: availableParallelism() };
  }
}
