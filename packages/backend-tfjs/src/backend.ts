import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError, noopLogger, type Backend, type BackendSession, type Dtype, type Logger, type ModelSpec, type SessionOptions } from '@embedder-rag/core';
import {
  builtinRuntime,
  DEFAULT_RUNTIME_ORDER,
  selectRuntime,
  type RuntimeFailure,
  type TfjsRuntimeCandidate,
  type TfjsRuntimeInfo,
  type TfjsRuntimeName,
} from './runtime';
import { TFJS_WEIGHT_FILES, TfjsSession } from './session';

/** Options of {@link TfjsBackend} (and the `tfjsBackend()` factory). */
export interface TfjsBackendOptions {
  /**
   * Runtimes to try, best first: names of the built-in ones and/or candidates of your own.
   * @default ['node-gpu', 'node', 'wasm', 'cpu']
   */
  runtimes?: readonly (TfjsRuntimeName | TfjsRuntimeCandidate)[];
  /** Threads for the wasm runtime where wasm threads are available; default: the cores available. */
  wasmThreads?: number;
  logger?: Logger;
}

/**
 * The TensorFlow.js backend: transformer encoders (a table of families) in tfjs ops, on the best tensor runtime that loads at init.
 * TensorFlow.js has one active runtime per process, so every session of every instance shares it.
 */
export class TfjsBackend implements Backend {
  readonly name = 'tfjs';
  readonly #candidates: TfjsRuntimeCandidate[];
  readonly #logger: Logger;
  #runtime: TfjsRuntimeInfo | undefined;
  #skipped: RuntimeFailure[] = [];
  #initialising: Promise<void> | undefined;

  constructor(options: TfjsBackendOptions = {}) {
    this.#logger = options.logger ?? noopLogger;
    const wasm = options.wasmThreads === undefined ? {} : { threads: options.wasmThreads };
    this.#candidates = (options.runtimes ?? DEFAULT_RUNTIME_ORDER).map((runtime) => (typeof runtime === 'string' ? builtinRuntime(runtime, wasm) : runtime));
  }

  /** `[['model.safetensors', 'pytorch_model.bin']]` for fp32. @throws EmbedderError UNSUPPORTED for q8. */
  weightFiles(dtype: Dtype): readonly (readonly string[])[] {
    if (dtype !== 'fp32') {
      throw new EmbedderError('UNSUPPORTED', `the tfjs backend runs fp32 weights only (asked for ${dtype}); use the onnx backend for q8`);
    }
    return [TFJS_WEIGHT_FILES];
  }

  /** Activates the first runtime that works. @throws EmbedderError BACKEND_UNAVAILABLE when none does. */
  init(): Promise<void> {
    this.#initialising ??= (async () => {
      // Keep tfjs's own console warnings (e.g. "install tfjs-node") out of the host's output: libraries do not log.
      tf.env().set('PROD', true);
      const { runtime, skipped } = await selectRuntime(this.#candidates, this.#logger);
      this.#runtime = runtime;
      this.#skipped = skipped;
    })();
    return this.#initialising;
  }

  /** The runtime chosen at init (undefined before). */
  get runtime(): TfjsRuntimeInfo | undefined {
    return this.#runtime;
  }

  async createSession(model: ModelSpec, options: SessionOptions): Promise<BackendSession> {
    await this.init();
    const runtime = this.#runtime!;
    if (options.device === 'webgpu') {
      throw new EmbedderError('BACKEND_UNAVAILABLE', `device webgpu was asked for but the tfjs backend runs ${runtime.label}; use the onnx backend for webgpu`);
    }
    if (options.device === 'cuda' && runtime.device !== 'cuda') {
      throw new EmbedderError('BACKEND_UNAVAILABLE', `device cuda was asked for but the tfjs runtime is ${runtime.label} (tfjs-node-gpu is not available)`, {
        details: { skipped: this.#skipped },
      });
    }
    const session = await TfjsSession.load(runtime, model, options);
    this.#logger.info('tfjs session ready', { model: model.id, runtime: runtime.label, file: session.info.modelFile });
    return session;
  }

  describe(): Record<string, unknown> {
    return {
      runtime: this.#runtime?.label ?? 'not initialised',
      device: this.#runtime?.device,
      tfjs: tf.version_core,
      skipped: this.#skipped.map((failure) => `${failure.name}: ${failure.reason}`),
    };
  }
}
