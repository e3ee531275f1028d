import * as tf from '@tensorflow/tfjs-core';
import { EmbedderError } from '@embedder-rag/core';

/** Which parameters weight decay applies to. */
export type DecayFilter =
  /** As sentence-transformers' trainer (transformers' Trainer): every weight but biases and LayerNorm weights. */
  | 'sentence-transformers'
  /** Every parameter, as a bare torch.optim.AdamW(model.parameters()) does. */
  | 'all';

/** Options of {@link Optimizer}. */
export interface OptimizerOptions {
  /** `adamw` (torch.optim.AdamW semantics) or plain `sgd` (no momentum). @default 'adamw' */
  kind?: 'adamw' | 'sgd';
  /** Decoupled weight decay (AdamW only). @default 0.01 */
  weightDecay?: number;
  /** @default 'sentence-transformers' */
  decay?: DecayFilter;
  /** @default [0.9, 0.999] */
  betas?: readonly [number, number];
  /** @default 1e-8 */
  eps?: number;
}

/** True for parameters sentence-transformers decays: weights, not biases, not LayerNorm. */
export function decaysBySentenceTransformers(name: string): boolean {
  return !name.includes('bias') && !name.includes('LayerNorm');
}

/**
 * The gradient of one parameter, flat in the parameter's layout; or, for a [rows, columns] table only some rows of
 * which got any (the word embeddings: the batch's tokens), those rows' gradients (`values` is
 * [rows.length, columns]) with every other row's gradient exactly 0.
 */
export type Gradient = Float32Array | RowGradient;

/** See {@link Gradient}. */
export interface RowGradient {
  /** Distinct row indices, each at most once. */
  rows: Int32Array;
  values: Float32Array;
}

/**
 * A tensor's values as an array the caller may keep and change: wasm's dataSync copies out of its heap, the cpu
 * runtime's hands out the tensor's own array (for a parameter, possibly a view of the weight file), copied here.
 */
export function ownedValues(tensor: tf.Tensor): Float32Array {
  const values = tensor.dataSync() as Float32Array;
  return tf.getBackend() === 'wasm' ? values : values.slice();
}

interface Moments {
  first: Float32Array;
  second: Float32Array;
  shape: number[];
}

/** For each row of a [rows, columns] table, where its gradient starts in `gradient.values`, or -1 (gradient 0). */
function rowSlots(gradient: RowGradient, rows: number): Int32Array {
  const slots = new Int32Array(rows).fill(-1);
  gradient.rows.forEach((row, index) => {
    slots[row] = index;
  });
  return slots;
}

/**
 * AdamW exactly as torch.optim.AdamW computes a step (decay p ← p·(1 − lr·wd) first, then the bias-corrected
 * moments: p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)), or plain SGD. The update runs as one loop per parameter
 * over Float32Arrays (moments live here, in float32 as torch keeps them): the same arithmetic as ~15 tensor ops
 * per parameter, without their full-size temporaries. A row-sparse gradient updates every row, untouched ones with
 * gradient 0 (their moments decay, the update goes on), so the result is the dense update's.
 * {@link state}/{@link restore} move the moments in and out of checkpoints.
 */
export class Optimizer {
  readonly kind: 'adamw' | 'sgd';
  readonly weightDecay: number;
  readonly decay: DecayFilter;
  readonly betas: readonly [number, number];
  readonly eps: number;
  /** Optimizer steps taken. */
  step = 0;
  readonly #moments = new Map<string, Moments>();

  constructor(options: OptimizerOptions = {}) {
    this.kind = options.kind ?? 'adamw';
    this.weightDecay = options.weightDecay ?? 0.01;
    this.decay = options.decay ?? 'sentence-transformers';
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    if (!(this.weightDecay >= 0)) throw new EmbedderError('INVALID_CONFIG', `weight decay must be >= 0, got ${this.weightDecay}`);
  }

  #momentsOf(name: string, shape: number[]): Moments {
    let moments = this.#moments.get(name);
    if (!moments) {
      const size = shape.reduce((product, dim) => product * dim, 1);
      moments = { first: new Float32Array(size), second: new Float32Array(size), shape };
      this.#moments.set(name, moments);
    }
    return moments;
  }

  /**
   * One update of every parameter that has a gradient (`gradients` by parameter name), at learning rate `lr`, each
   * gradient multiplied by `gradientScale` first (the clip coefficient, as torch's clip_grad_norm_ scales them in
   * place).
   */
  apply(parameters: ReadonlyMap<string, tf.Variable>, gradients: ReadonlyMap<string, Gradient>, lr: number, gradientScale = 1): void {
    this.step++;
    for (const [name, parameter] of parameters) {
      const gradient = gradients.get(name);
      if (!gradient) continue;
      // Not the cpu runtime's own array, which may be a view of the weight file the model was read from.
      const values = ownedValues(parameter);
      if (this.kind === 'sgd') this.#sgd(values, parameter.shape, gradient, lr, gradientScale);
      else this.#adamw(name, values, parameter.shape, gradient, lr, gradientScale);
      const next = tf.tensor(values, parameter.shape, 'float32');
      parameter.assign(next);
      next.dispose();
    }
  }

  #sgd(values: Float32Array, shape: number[], gradient: Gradient, lr: number, scale: number): void {
    const f = Math.fround;
    const step = (at: number, g: number) => {
      values[at] = values[at]! - lr * (scale === 1 ? g : f(g * scale));
    };
    if (gradient instanceof Float32Array) {
      for (let i = 0; i < values.length; i++) step(i, gradient[i]!);
      return;
    }
    // Rows without gradient do not move under SGD.
    const columns = shape.at(-1)!;
    gradient.rows.forEach((row, index) => {
      for (let k = 0; k < columns; k++) step(row * columns + k, gradient.values[index * columns + k]!);
    });
  }

  #adamw(name: string, values: Float32Array, shape: number[], gradient: Gradient, lr: number, scale: number): void {
    const f = Math.fround;
    const [beta1, beta2] = this.betas;
    const { first, second } = this.#momentsOf(name, shape);
    const decays = this.weightDecay > 0 && (this.decay === 'all' || decaysBySentenceTransformers(name));
    const keep = decays ? f(1 - lr * this.weightDecay) : 1;
    const stepSize = lr / (1 - beta1 ** this.step);
    const correction2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    const eps = this.eps;
    const update = (at: number, raw: number) => {
      const g = scale === 1 ? raw : f(raw * scale);
      const m = (first[at] = f(beta1 * first[at]! + (1 - beta1) * g));
      const v = (second[at] = f(beta2 * second[at]! + (1 - beta2) * g * g));
      const p = keep === 1 ? values[at]! : f(values[at]! * keep);
      values[at] = p - (stepSize * m) / (f(Math.sqrt(v)) / correction2Sqrt + eps);
    };
    if (gradient instanceof Float32Array) {
      for (let i = 0; i < values.length; i++) update(i, gradient[i]!);
      return;
    }
    const columns = shape.at(-1)!;
    const slots = rowSlots(gradient, values.length / columns);
    for (let row = 0; row < slots.length; row++) {
      const from = slots[row]! * columns;
      const base = row * columns;
      if (from < 0) for (let k = 0; k < columns; k++) update(base + k, 0);
      else for (let k = 0; k < columns; k++) update(base + k, gradient.values[from + k]!);
    }
  }

  /** The moments by name (`first/<parameter>`, `second/<parameter>`), for a checkpoint. */
  async state(): Promise<Map<string, { values: Float32Array; shape: number[] }>> {
    const out = new Map<string, { values: Float32Array; shape: number[] }>();
    for (const [name, { first, second, shape }] of this.#moments) {
      out.set(`first/${name}`, { values: first, shape });
      out.set(`second/${name}`, { values: second, shape });
    }
    return out;
  }

  /** Restores {@link state} and the step count. */
  restore(step: number, state: ReadonlyMap<string, { values: Float32Array; shape: number[] }>, parameters: ReadonlyMap<string, tf.Variable>): void {
    this.step = step;
    if (this.kind === 'sgd') return;
    for (const [name, parameter] of parameters) {
      const first = state.get(`first/${name}`);
      const second = state.get(`second/${name}`);
      if (!first || !second) continue;
      if (first.values.length !== parameter.size || second.values.length !== parameter.size) {
        throw new EmbedderError('MODEL_INVALID', `checkpoint holds optimizer moments of another size for '${name}'`, { details: { parameter: name } });
      }
      this.#moments.set(name, { first: Float32Array.from(first.values), second: Float32Array.from(second.values), shape: parameter.shape });
    }
  }

  dispose(): void {
    this.#moments.clear();
  }
}

/**
 * transformers' get_linear_schedule_with_warmup, as sentence-transformers uses it ("WarmupLinear"): the rate rises
 * linearly from 0 over `warmupSteps`, then falls linearly to 0 at `totalSteps`. `step` is 0-based (the first
 * optimizer step runs at rate 0 when there is a warm-up).
 */
export function warmupLinear(step: number, totalSteps: number, warmupSteps: number, lr: number): number {
  if (step < warmupSteps) return (lr * step) / Math.max(1, warmupSteps);
  return lr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

/** Warm-up steps for a ratio, as transformers' Trainer: ceil(total · ratio). */
export function warmupSteps(totalSteps: number, ratio: number): number {
  return Math.ceil(totalSteps * ratio);
}

/** The global L2 norm of gradients (the norm torch.nn.utils.clip_grad_norm_ clips), accumulated in float64. */
export function gradientNorm(gradients: Iterable<Gradient>): number {
  let squares = 0;
  for (const gradient of gradients) {
    const values = gradient instanceof Float32Array ? gradient : gradient.values;
    for (let i = 0; i < values.length; i++) squares += values[i]! * values[i]!;
  }
  return Math.sqrt(squares);
}

/**
 * torch.nn.utils.clip_grad_norm_'s coefficient: every gradient is multiplied by min(1, maxNorm / (‖g‖ + 1e-6)),
 * ‖g‖ the global L2 norm; 1 (no clipping) when maxNorm is undefined or infinite.
 */
export function clipCoefficient(norm: number, maxNorm: number | undefined): number {
  if (maxNorm === undefined || !Number.isFinite(maxNorm)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}
