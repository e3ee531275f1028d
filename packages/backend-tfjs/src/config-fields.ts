import { EmbedderError, type ModelSpec } from '@embedder-rag/core';

/** The feed-forward activations the encoders implement, by their config.json names. */
export type HiddenActivation = 'gelu' | 'gelu_new' | 'relu';

const ACTIVATIONS: Readonly<Record<string, HiddenActivation>> = {
  gelu: 'gelu',
  // tanh approximations of GELU, as transformers names them.
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  gelu_fast: 'gelu_new',
  relu: 'relu',
};

/** Reads typed fields of a model's config.json, naming the file and field in every error. */
export class ConfigFields {
  readonly #model: ModelSpec;

  constructor(model: ModelSpec) {
    this.#model = model;
  }

  /** @throws EmbedderError MODEL_INVALID when the field (or its fallback) is not a positive integer. */
  positive(field: string, fallback?: number): number {
    const value = this.#model.config[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new EmbedderError('MODEL_INVALID', `${this.#model.dir}/config.json: '${field}' must be a positive integer (got ${JSON.stringify(value)})`, {
        details: { dir: this.#model.dir, field },
      });
    }
    return value;
  }

  /** A non-negative integer such as pad_token_id. @throws EmbedderError MODEL_INVALID otherwise. */
  index(field: string, fallback: number): number {
    const value = this.#model.config[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new EmbedderError('MODEL_INVALID', `${this.#model.dir}/config.json: '${field}' must be a non-negative integer (got ${JSON.stringify(value)})`, {
        details: { dir: this.#model.dir, field },
      });
    }
    return value;
  }

  /** A positive number such as layer_norm_eps. */
  epsilon(field: string, fallback: number): number {
    const value = this.#model.config[field];
    return typeof value === 'number' && value > 0 ? value : fallback;
  }

  /** @throws EmbedderError UNSUPPORTED naming the activation and the supported ones. */
  activation(field: string, fallback: string): HiddenActivation {
    const name = String(this.#model.config[field] ?? fallback);
    const activation = ACTIVATIONS[name];
    if (!activation) {
      throw new EmbedderError('UNSUPPORTED', `${this.#model.dir}/config.json: ${field} '${name}' is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`, {
        details: { dir: this.#model.dir, field, value: name },
      });
    }
    return activation;
  }

  /** @throws EmbedderError MODEL_INVALID when `size` is not a multiple of `heads`. */
  headSize(size: number, heads: number, sizeField: string, headsField: string): number {
    if (size % heads !== 0) {
      throw new EmbedderError('MODEL_INVALID', `${this.#model.dir}/config.json: ${sizeField} ${size} is not a multiple of ${headsField} ${heads}`, {
        details: { dir: this.#model.dir, field: sizeField },
      });
    }
    return size / heads;
  }
}
