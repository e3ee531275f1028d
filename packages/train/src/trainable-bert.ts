import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError, type ModelSpec } from '@embedder-rag/core';
import {
  BERT_VARIANT,
  bertParameterShapes,
  bertStyleForward,
  bertWeights,
  readBertConfig,
  TFJS_WEIGHT_FILES,
  xlmRobertaVariant,
  type BertConfig,
  type BertVariant,
  type BertWeights,
  type Dropout,
  type EncoderInputs,
} from '@embedder-rag/backend-tfjs';
import { loadModelSpec } from '@embedder-rag/models';
import { loadTokenizer, type TextEncoding, type TextTokenizer } from '@embedder-rag/tokenizer';
import { findParameter, openModelWeights, readParameter, type WeightSet } from '@embedder-rag/weights';
import { lengthGroups } from './length-groups';
import { mixSeed } from './random';

/**
 * The model families (config.json `model_type`) the trainer can fine-tune: BERT-style encoders (BERT's parameter
 * names and layers), each with how it numbers positions and uses token types.
 */
const TRAINABLE_VARIANTS: Readonly<Record<string, (spec: ModelSpec) => BertVariant>> = {
  bert: () => BERT_VARIANT,
  'xlm-roberta': xlmRobertaVariant,
  roberta: xlmRobertaVariant,
};

/** The model families (config.json `model_type`) the trainer can fine-tune. */
export const TRAINABLE_FAMILIES: readonly string[] = Object.keys(TRAINABLE_VARIANTS);

/** The word-embedding table's checkpoint name. */
export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';

/**
 * The word-embedding rows one training batch reads, copied into a variable of their own (see
 * {@link TrainableBert.batchWords}).
 */
export interface BatchWords {
  /** The batch's distinct token ids (padding included), ascending: row i of `table` is word-embedding row rows[i]. */
  rows: Int32Array;
  table: tf.Variable;
}

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
  /** How the family numbers positions and uses token types. */
  readonly variant: BertVariant;
  readonly #variablePrefix: string;
  #batchWordsMade = 0;

  private constructor(spec: ModelSpec, config: BertConfig, variant: BertVariant, tokenizer: TextTokenizer, source: WeightSet, parameters: Map<string, tf.Variable>, prefix: string) {
    this.spec = spec;
    this.variant = variant;
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
    const variantOf = Object.hasOwn(TRAINABLE_VARIANTS, spec.architecture) ? TRAINABLE_VARIANTS[spec.architecture] : undefined;
    if (!variantOf) {
      throw new EmbedderError(
        'UNSUPPORTED',
        `cannot fine-tune ${spec.dir}: it is a '${spec.architecture}' model; the trainer fine-tunes these families: ${TRAINABLE_FAMILIES.join(', ')} (BERT encoders such as all-MiniLM-L6-v2, bge-small-en-v1.5, bert-base-uncased; XLM-RoBERTa ones such as multilingual-e5)`,
        { details: { dir: spec.dir, architecture: spec.architecture, trainable: TRAINABLE_FAMILIES } },
      );
    }
    const config = readBertConfig(spec);
    if (spec.dense.length > 0) {
      throw new EmbedderError('UNSUPPORTED', `cannot fine-tune ${spec.dir}: Dense modules after pooling are not trained (the trainer runs Transformer → Pooling → Normalize)`);
    }
    const variant = variantOf(spec);
    // Positions counted past the padding index leave padIndex + 1 rows of the table unused.
    const maxPositions = variant.padIndex === undefined ? config.maxPositionEmbeddings : config.maxPositionEmbeddings - variant.padIndex - 1;
    const maxSeqLength = options.maxSeqLength ?? Math.min(spec.maxSeqLength, maxPositions);
    if (!Number.isInteger(maxSeqLength) || maxSeqLength < 3 || maxSeqLength > maxPositions) {
      throw new EmbedderError('INVALID_CONFIG', `maxSeqLength must be an integer in [3, ${maxPositions}], got ${maxSeqLength}`);
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
    return new TrainableBert({ ...spec, maxSeqLength }, config, variant, tokenizer, source, parameters, prefix);
  }

  /** The checkpoint name of a variable of this model (its tfjs name without the model's prefix). */
  parameterName(variable: tf.Variable): string {
    return variable.name.slice(this.#variablePrefix.length);
  }

  /** Tokenises texts (truncated at maxSeqLength). */
  encode(texts: readonly string[]): TextEncoding[] {
    return texts.map((text) => this.tokenizer.encode(text));
  }

  /**
   * The word-embedding rows of the tokens in `encodings` as a variable of their own. Training differentiates with
   * respect to this [distinct tokens, hidden] table instead of the [vocab, hidden] one ({@link embed} reads it with
   * the ids renumbered), so the embedding gradient is a row per token seen, not a dense 30,522-row table per step;
   * the rows' sums are the same, in the same order. Dispose the table after the step.
   */
  batchWords(encodings: readonly TextEncoding[]): BatchWords {
    const seen = new Set<number>([this.tokenizer.padId]);
    for (const encoding of encodings) for (const id of encoding.ids) seen.add(id);
    const rows = Int32Array.from(seen).sort();
    const table = tf.tidy(() => tf.variable(tf.gather(this.parameters.get(WORD_EMBEDDINGS)!, tf.tensor1d(rows, 'int32')), true, `${this.#variablePrefix}batch-words-${++this.#batchWordsMade}`));
    return { rows, table };
  }

  #tensors(encodings: readonly TextEncoding[], words?: BatchWords): EncoderInputs {
    const batch = this.tokenizer.collate(encodings);
    const shape: [number, number] = [batch.batchSize, batch.sequenceLength];
    const ids = Int32Array.from(batch.inputIds, Number);
    const int32 = (values: Int32Array) => tf.tensor2d(values, shape, 'int32');
    let lookup = ids;
    if (words) {
      const index = new Map<number, number>();
      words.rows.forEach((row, at) => index.set(row, at));
      lookup = ids.map((id) => index.get(id)!);
    }
    return {
      inputIds: int32(lookup),
      attentionMask: int32(Int32Array.from(batch.attentionMask, Number)),
      tokenTypeIds: int32(Int32Array.from(batch.tokenTypeIds, Number)),
      ids,
    };
  }

  /**
   * Sentence embeddings [texts, hidden] of encoded texts: encoder, the model's pooling, Normalize when modules.json
   * has it. Differentiable with respect to {@link parameters} (with `words`: to its table instead of the word
   * embeddings); call inside tf.tidy (or a gradient function).
   */
  embed(encodings: readonly TextEncoding[], dropout?: Dropout, words?: BatchWords): tf.Tensor2D {
    const weights = bertWeights((name) => (words && name === WORD_EMBEDDINGS ? words.table : this.parameters.get(name)!), this.config);
    // Texts of similar length run together, each group padded to its own longest (see lengthGroups); the rows come
    // back in the order given.
    const groups = lengthGroups(encodings.map((encoding) => encoding.ids.length));
    if (groups.length === 1) return this.#embedPadded(encodings, weights, dropout, words);
    const parts = groups.map((group) => this.#embedPadded(group.map((index) => encodings[index]!), weights, dropout, words));
    const rowOf = new Int32Array(encodings.length);
    groups.flat().forEach((index, row) => {
      rowOf[index] = row;
    });
    return tf.gather(tf.concat(parts, 0), tf.tensor1d(rowOf, 'int32'));
  }

  /** {@link embed} of texts padded into one batch. */
  #embedPadded(encodings: readonly TextEncoding[], weights: BertWeights, dropout: Dropout | undefined, words: BatchWords | undefined): tf.Tensor2D {
    const inputs = this.#tensors(encodings, words);
    const hidden = bertStyleForward(inputs, weights, this.config, this.variant, dropout);
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
