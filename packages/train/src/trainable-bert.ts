import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError, type ModelSpec } from '@embedder-rag/core';
import { bertForward, bertParameterShapes, bertWeights, readBertConfig, TFJS_WEIGHT_FILES, type BertConfig, type Dropout, type EncoderInputs } from '@embedder-rag/backend-tfjs';
import { loadModelSpec } from '@embedder-rag/models';
import { loadTokenizer, type TextEncoding, type TextTokenizer } from '@embedder-rag/tokenizer';
import { findParameter, openModelWeights, readParameter, type WeightSet } from '@embedder-rag/weights';
import { mixSeed } from './random';

/** The model families (config.json `model_type`) the trainer can fine-tune. */
export const TRAINABLE_FAMILIES: readonly string[] = ['bert'];

/** Options of {@link TrainableBert.load}. */
export interface TrainableBertOptions {
  /** Tokens per text, specials included; default: the model's max_seq_length (at most its position table). */
  maxSeqLength?: number;
}

// Variable names are global in a tfjs engine: each loaded model gets its own prefix.
let loadedModels = 0;

/**
 * A sentence-transformers BERT model whose encoder parameters are tf.variables in PyTorch's layout (one per
 * checkpoint tensor, under its unprefixed name), with the model's pooling and Normalize applied in tfjs ops so the
 * loss is differentiable end to end.
 */
export class TrainableBert {
  readonly spec: ModelSpec;
  readonly config: BertConfig;
  readonly tokenizer: TextTokenizer;
  /** The weight file the parameters were read from (kept for the tensors training does not touch, e.g. the pooler). */
  readonly source: WeightSet;
  /** Trainable parameters by checkpoint name, in file order. */
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** Dropout probabilities from config.json (hidden_dropout_prob, attention_probs_dropout_prob). */
  readonly dropoutRates: { hidden: number; attention: number };
  readonly #variablePrefix: string;

  private constructor(spec: ModelSpec, config: BertConfig, tokenizer: TextTokenizer, source: WeightSet, parameters: Map<string, tf.Variable>, prefix: string) {
    this.spec = spec;
    this.config = config;
    this.tokenizer = tokenizer;
    this.source = source;
    this.parameters = parameters;
    this.#variablePrefix = prefix;
    const rate = (field: string): number => {
      const value = spec.config[field];
      return typeof value === 'number' && value >= 0 && value < 1 ? value : 0.1;
    };
    this.dropoutRates = { hidden: rate('hidden_dropout_prob'), attention: rate('attention_probs_dropout_prob') };
  }

  /**
   * Loads a model folder for training.
   * @throws EmbedderError UNSUPPORTED for a model family the trainer cannot train (naming those it can) or Dense
   * modules after pooling; MODEL_NOT_FOUND / MODEL_INVALID / WEIGHTS_INVALID for a missing or broken folder.
   */
  static async load(dir: string, options: TrainableBertOptions = {}): Promise<TrainableBert> {
    const spec = await loadModelSpec(dir);
    if (!TRAINABLE_FAMILIES.includes(spec.architecture)) {
      throw new EmbedderError(
        'UNSUPPORTED',
        `cannot fine-tune ${spec.dir}: it is a '${spec.architecture}' model; the trainer fine-tunes these families: ${TRAINABLE_FAMILIES.join(', ')} (BERT encoders such as all-MiniLM-L6-v2, bge-small-en-v1.5, bert-base-uncased)`,
        { details: { dir: spec.dir, architecture: spec.architecture, trainable: TRAINABLE_FAMILIES } },
      );
    }
    const config = readBertConfig(spec);
    if (spec.dense.length > 0) {
      throw new EmbedderError('UNSUPPORTED', `cannot fine-tune ${spec.dir}: Dense modules after pooling are not trained (the trainer runs Transformer → Pooling → Normalize)`);
    }
    const maxSeqLength = options.maxSeqLength ?? Math.min(spec.maxSeqLength, config.maxPositionEmbeddings);
    if (!Number.isInteger(maxSeqLength) || maxSeqLength < 3 || maxSeqLength > config.maxPositionEmbeddings) {
      throw new EmbedderError('INVALID_CONFIG', `maxSeqLength must be an integer in [3, ${config.maxPositionEmbeddings}], got ${maxSeqLength}`);
    }
    const tokenizer = await loadTokenizer(spec.dir, { maxSeqLength });
    const source = await openModelWeights(spec.dir, TFJS_WEIGHT_FILES);
    const prefix = `embedder-train-${++loadedModels}/`;
    const parameters = new Map<string, tf.Variable>();
    try {
      for (const { name, shape } of bertParameterShapes(config)) {
        parameters.set(name, tf.variable(tf.tensor(readParameter(source, name, shape), shape), true, prefix + name));
      }
    } catch (error) {
      for (const variable of parameters.values()) variable.dispose();
      throw error;
    }
    return new TrainableBert({ ...spec, maxSeqLength }, config, tokenizer, source, parameters, prefix);
  }

  /** The checkpoint name of a variable of this model (its tfjs name without the model's prefix). */
  parameterName(variable: tf.Variable): string {
    return variable.name.slice(this.#variablePrefix.length);
  }

  /** Tokenises texts (truncated at maxSeqLength). */
  encode(texts: readonly string[]): TextEncoding[] {
    return texts.map((text) => this.tokenizer.encode(text));
  }

  #tensors(encodings: readonly TextEncoding[]): EncoderInputs {
    const batch = this.tokenizer.collate(encodings);
    const shape: [number, number] = [batch.batchSize, batch.sequenceLength];
    const ids = Int32Array.from(batch.inputIds, Number);
    const int32 = (values: Int32Array) => tf.tensor2d(values, shape, 'int32');
    return {
      inputIds: int32(ids),
      attentionMask: int32(Int32Array.from(batch.attentionMask, Number)),
      tokenTypeIds: int32(Int32Array.from(batch.tokenTypeIds, Number)),
      ids,
    };
  }

  /**
   * Sentence embeddings [texts, hidden] of encoded texts: encoder, the model's pooling, Normalize when modules.json
   * has it. Differentiable with respect to {@link parameters}; call inside tf.tidy (or a gradient function).
   */
  embed(encodings: readonly TextEncoding[], dropout?: Dropout): tf.Tensor2D {
    const inputs = this.#tensors(encodings);
    const weights = bertWeights((name) => this.parameters.get(name)!, this.config);
    const hidden = bertForward(inputs, weights, this.config, dropout);
    const mask = tf.expandDims(tf.cast(inputs.attentionMask, 'float32'), 2);
    let pooled: tf.Tensor2D;
    switch (this.spec.pooling) {
      case 'mean':
        pooled = tf.div(tf.sum(tf.mul(hidden, mask), 1), tf.maximum(tf.sum(mask, 1), 1e-9));
        break;
      case 'cls':
        pooled = tf.squeeze(tf.slice(hidden, [0, 0, 0], [-1, 1, -1]), [1]);
        break;
      case 'max':
        // As sentence-transformers: padding set to -1e9 before the maximum.
        pooled = tf.max(tf.where(tf.cast(tf.broadcastTo(mask, hidden.shape), 'bool'), hidden, tf.fill(hidden.shape, -1e9)), 1);
        break;
      default:
        throw new EmbedderError('UNSUPPORTED', `training runs mean, cls and max pooling; ${this.spec.dir} uses '${this.spec.pooling}'`);
    }
    return this.spec.normalize ? l2Normalize(pooled) : pooled;
  }

  /** A dropout for the training mode: masks seeded by (seed, step, call), so a resumed run draws the same ones. */
  trainingDropout(seed: number, step: number): Dropout {
    let call = 0;
    const { hidden, attention } = this.dropoutRates;
    return (x, site) => {
      const rate = site === 'hidden' ? hidden : attention;
      call++;
      return rate > 0 ? tf.dropout(x, rate, undefined, mixSeed(seed, step, call)) : x;
    };
  }

  /** Eval-mode embeddings of texts, in batches. */
  async embedTexts(texts: readonly string[], batchSize = 32): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const encodings = this.encode(texts.slice(start, start + batchSize));
      const vectors = tf.tidy(() => this.embed(encodings));
      const values = (await vectors.data()) as Float32Array;
      vectors.dispose();
      const dimension = this.config.hiddenSize;
      for (let row = 0; row < encodings.length; row++) out.push(values.slice(row * dimension, (row + 1) * dimension));
    }
    return out;
  }

  /** Current parameter values by checkpoint name (PyTorch layout). */
  async parameterValues(): Promise<Map<string, Float32Array>> {
    const values = new Map<string, Float32Array>();
    for (const [name, variable] of this.parameters) values.set(name, (await variable.data()) as Float32Array);
    return values;
  }

  /** Sets parameters from values by checkpoint name (a checkpoint being resumed). */
  assignParameters(values: ReadonlyMap<string, Float32Array>): void {
    for (const [name, variable] of this.parameters) {
      const value = values.get(name);
      if (!value || value.length !== variable.size) {
        throw new EmbedderError('MODEL_INVALID', `checkpoint lacks parameter '${name}' or holds a different size`, { details: { parameter: name } });
      }
      tf.tidy(() => variable.assign(tf.tensor(value, variable.shape)));
    }
  }

  /** The stored name of a tensor that training leaves as it is (the pooler), if the file has it. */
  storedName(name: string): string | undefined {
    return findParameter(this.source, name);
  }

  dispose(): void {
    for (const variable of this.parameters.values()) variable.dispose();
  }
}

/** x / max(‖x‖, 1e-12) per row, as torch.nn.functional.normalize. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
}
