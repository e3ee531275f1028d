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

interface Moments {
  first: tf.Variable;
  second: tf.Variable;
}

/**
 * AdamW exactly as torch.optim.AdamW computes a step (decay p ← p·(1 − lr·wd) first, then the bias-corrected
 * moments: p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)), or plain SGD. Moments are tf.variables beside the
 * parameters; {@link state}/{@link restore} move them in and out of checkpoints.
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

  #momentsOf(name: string, parameter: tf.Variable): Moments {
    let moments = this.#moments.get(name);
    if (!moments) {
      moments = { first: tf.variable(tf.zerosLike(parameter), false), second: tf.variable(tf.zerosLike(parameter), false) };
      this.#moments.set(name, moments);
    }
    return moments;
  }

  /** One update of every parameter that has a gradient (`gradients` by parameter name), at learning rate `lr`. */
  apply(parameters: ReadonlyMap<string, tf.Variable>, gradients: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.step++;
    const [beta1, beta2] = this.betas;
    const correction1 = 1 - beta1 ** this.step;
    const correction2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    for (const [name, parameter] of parameters) {
      const gradient = gradients.get(name);
      if (!gradient) continue;
      tf.tidy(() => {
        if (this.kind === 'sgd') {
          parameter.assign(tf.sub(parameter, tf.mul(gradient, lr)));
          return;
        }
        const moments = this.#momentsOf(name, parameter);
        const decays = this.weightDecay > 0 && (this.decay === 'all' || decaysBySentenceTransformers(name));
        const decayed = decays ? tf.mul(parameter, 1 - lr * this.weightDecay) : parameter;
        const first = tf.add(tf.mul(moments.first, beta1), tf.mul(gradient, 1 - beta1));
        const second = tf.add(tf.mul(moments.second, beta2), tf.mul(tf.square(gradient), 1 - beta2));
        moments.first.assign(first);
        moments.second.assign(second);
        const denominator = tf.add(tf.div(tf.sqrt(second), correction2Sqrt), this.eps);
        parameter.assign(tf.sub(decayed, tf.mul(tf.div(first, denominator), lr / correction1)));
      });
    }
  }

  /** The moments by name (`first/<parameter>`, `second/<parameter>`), for a checkpoint. */
  async state(): Promise<Map<string, { values: Float32Array; shape: number[] }>> {
    const out = new Map<string, { values: Float32Array; shape: number[] }>();
    for (const [name, { first, second }] of this.#moments) {
      out.set(`first/${name}`, { values: (await first.data()) as Float32Array, shape: first.shape });
      out.set(`second/${name}`, { values: (await second.data()) as Float32Array, shape: second.shape });
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
      const moments = this.#momentsOf(name, parameter);
      tf.tidy(() => {
        moments.first.assign(tf.tensor(first.values, parameter.shape));
        moments.second.assign(tf.tensor(second.values, parameter.shape));
      });
    }
  }

  dispose(): void {
    for (const { first, second } of this.#moments.values()) tf.dispose([first, second]);
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

/**
 * torch.nn.utils.clip_grad_norm_: scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the global L2 norm.
 * Returns the norm before clipping and the (possibly new) gradients; replaced tensors are disposed.
 */
export function clipGradientNorm(gradients: Map<string, tf.Tensor>, maxNorm: number): number {
  const total = tf.tidy(() => tf.sqrt(tf.addN([...gradients.values()].map((gradient) => tf.sum(tf.square(gradient))))));
  const norm = total.dataSync()[0]!;
  total.dispose();
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    for (const [name, gradient] of gradients) {
      gradients.set(name, tf.mul(gradient, coefficient));
      gradient.dispose();
    }
  }
  return norm;
}
