import type * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '@embedder-rag/core';
import type { WeightSet } from '@embedder-rag/weights';

/** A batch as int32 tensors [batch, sequence], with the ids also on the JavaScript side. */
export interface EncoderInputs {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  /** The same ids as `inputIds`, row-major (for position ids computed from the ids). */
  ids: Int32Array;
}

/** An encoder with its weights resident in the tfjs runtime. */
export interface LoadedEncoder {
  /** Size of each token's output vector (and so of a pooled vector). */
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Longest sequence accepted, specials included. */
  readonly maxPositions: number;
  /** Token type ids must lie in [0, typeVocabSize); undefined when the model has no token types (they are ignored). */
  readonly typeVocabSize: number | undefined;
  /** Last hidden states [batch, seq, hidden]. Called inside tf.tidy: intermediate tensors are left to that scope. */
  forward(inputs: EncoderInputs): tf.Tensor3D;
  /** Releases every weight tensor. */
  dispose(): void;
}

/**
 * One encoder architecture the tfjs backend runs: which config.json `model_type`s it covers and how it reads its
 * hyper-parameters and weights. A new architecture is one file exporting one of these, registered in
 * `families/index.ts`.
 */
export interface EncoderFamily {
  /** The family's name in messages (`bert`, `t5`, …). */
  readonly name: string;
  /** config.json `model_type` values this family runs. */
  readonly modelTypes: readonly string[];
  /**
   * Reads config.json and copies the weights into tfjs tensors, checking every name and shape.
   * @throws EmbedderError MODEL_INVALID / UNSUPPORTED for config fields, WEIGHTS_INVALID naming a missing or
   * mis-shaped tensor (having created no tensors).
   */
  load(model: ModelSpec, weights: WeightSet): LoadedEncoder;
}
