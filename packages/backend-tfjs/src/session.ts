import * as tf from '@tensorflow/tfjs-core';
import {
  assertBatchShape,
  EmbedderError,
  poolBatch,
  type BackendSession,
  type ModelSpec,
  type SessionInfo,
  type SessionOptions,
  type TokenizedBatch,
} from '@embedder-rag/core';
import { openModelWeights } from '@embedder-rag/weights';
import type { LoadedEncoder } from './encoder-family';
import { encoderFamilyFor } from './families';
import type { TfjsRuntimeInfo } from './runtime';

/** Weight files the tfjs backend reads, best first. */
export const TFJS_WEIGHT_FILES: readonly string[] = ['model.safetensors', 'pytorch_model.bin'];

/** Converts one int64 input to int32, checking every value lies in [0, limit). */
function toInt32(values: BigInt64Array, limit: number, what: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = Number(values[i]);
    if (!(value >= 0 && value < limit)) {
      throw new EmbedderError('INVALID_INPUT', `${what} ${value} at position ${i} is outside [0, ${limit})`, { details: { what, value, position: i } });
    }
    out[i] = value;
  }
  return out;
}

/** An encoder (of any family in the table) loaded into TensorFlow.js. */
export class TfjsSession implements BackendSession {
  readonly info: SessionInfo;
  /** The pooled vector's length: the encoder's hidden size (Dense modules after pooling are not the session's). */
  readonly dimension: number;
  readonly #model: ModelSpec;
  #encoder: LoadedEncoder | undefined;

  private constructor(model: ModelSpec, encoder: LoadedEncoder, info: SessionInfo) {
    this.#model = model;
    this.#encoder = encoder;
    this.info = info;
    this.dimension = encoder.hiddenSize;
  }

  /**
   * Reads config.json and the weights (model.safetensors, else pytorch_model.bin) into the active tfjs runtime, with
   * the encoder family its model_type names.
   * @throws EmbedderError UNSUPPORTED (a model_type with no family here, naming the ones there are;
   * dtype other than fp32), MODEL_INVALID / WEIGHTS_INVALID (missing, cut or mis-shaped weights, naming the tensor).
   */
  static async load(runtime: TfjsRuntimeInfo, model: ModelSpec, options: SessionOptions): Promise<TfjsSession> {
    if (options.dtype !== 'fp32') {
      throw new EmbedderError('UNSUPPORTED', `the tfjs backend runs fp32 weights only (asked for ${options.dtype}); use the onnx backend for q8`, {
        details: { dtype: options.dtype },
      });
    }
    const family = encoderFamilyFor(model);
    const file = await openModelWeights(model.dir, TFJS_WEIGHT_FILES);
    const encoder = family.load(model, file);
    return new TfjsSession(model, encoder, {
      backend: 'tfjs',
      runtime: runtime.label,
      dtype: 'fp32',
      device: runtime.device,
      modelFile: file.file,
      inputNames: encoder.typeVocabSize === undefined ? ['input_ids', 'attention_mask'] : ['input_ids', 'attention_mask', 'token_type_ids'],
    });
  }

  async run(batch: TokenizedBatch): Promise<Float32Array> {
    const encoder = this.#encoder;
    if (!encoder) throw new EmbedderError('DISPOSED', 'the tfjs session was disposed');
    assertBatchShape(batch, encoder.maxPositions);
    const { batchSize, sequenceLength } = batch;
    const shape: [number, number] = [batchSize, sequenceLength];
    const ids = toInt32(batch.inputIds, encoder.vocabSize, 'token id');
    const mask = toInt32(batch.attentionMask, 2, 'attention mask value');
    // A model without token types ignores them, as transformers does when none are passed.
    const types = encoder.typeVocabSize === undefined ? new Int32Array(ids.length) : toInt32(batch.tokenTypeIds, encoder.typeVocabSize, 'token type id');
    let hidden: tf.Tensor3D | undefined;
    let values: Float32Array;
    try {
      // Every intermediate tensor of the pass is freed when tidy returns; only the output survives it.
      hidden = tf.tidy(() =>
        encoder.forward({
          inputIds: tf.tensor2d(ids, shape, 'int32'),
          attentionMask: tf.tensor2d(mask, shape, 'int32'),
          tokenTypeIds: tf.tensor2d(types, shape, 'int32'),
          ids,
        }),
      );
      values = (await hidden.data()) as Float32Array;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmbedderError('INFERENCE_FAILED', `tfjs failed on a batch of ${batchSize}×${sequenceLength}: ${reason}`, { cause: error });
    } finally {
      hidden?.dispose();
    }
    return poolBatch(values, batch, encoder.hiddenSize, this.#model.pooling);
  }

  async dispose(): Promise<void> {
    if (!this.#encoder) return;
    this.#encoder.dispose();
    this.#encoder = undefined;
  }
}
