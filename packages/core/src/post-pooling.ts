import type { BackendSession, TokenizedBatch } from './backend';
import { EmbedderError } from './errors';

/** Activations a sentence-transformers Dense module may name (`torch.nn.modules.activation.Tanh` → `tanh`). */
export type DenseActivation = 'identity' | 'tanh' | 'relu' | 'gelu' | 'sigmoid';

const ACTIVATIONS: Readonly<Record<string, DenseActivation>> = {
  identity: 'identity',
  tanh: 'tanh',
  relu: 'relu',
  gelu: 'gelu',
  sigmoid: 'sigmoid',
};

/**
 * The activation a Dense config names by its torch class path (only the class name counts, so old and new module
 * paths agree). Throws UNSUPPORTED naming `file` for any other.
 */
export function parseDenseActivation(classPath: string, file: string): DenseActivation {
  const activation = ACTIVATIONS[(classPath.split('.').pop() ?? '').toLowerCase()];
  if (activation === undefined) {
    throw new EmbedderError('UNSUPPORTED', `${file} names activation '${classPath}'; embedder runs ${Object.keys(ACTIVATIONS).join(', ')}`, {
      details: { file, activation: classPath },
    });
  }
  return activation;
}

/** A sentence-transformers Dense module with its weights read: y = activation(W·x + b). */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  /** torch's `linear.weight`, row-major [outFeatures × inFeatures]. */
  weight: Float32Array;
  /** `linear.bias` [outFeatures], when the layer has one. */
  bias?: Float32Array;
  activation: DenseActivation;
  /** The weight file it came from (for messages). */
  file: string;
}

// Math has no erf; Abramowitz-Stegun 7.1.26 (error below 1.5e-7) is well inside the 1e-5 parity budget.
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

function activate(value: number, activation: DenseActivation): number {
  switch (activation) {
    case 'identity':
      return value;
    case 'tanh':
      return Math.tanh(value);
    case 'relu':
      return value > 0 ? value : 0;
    case 'gelu':
      return 0.5 * value * (1 + erf(value / Math.SQRT2));
    case 'sigmoid':
      return 1 / (1 + Math.exp(-value));
  }
}

/**
 * Runs pooled vectors (row-major [batchSize × layers[0].inFeatures]) through Dense layers in order; returns
 * [batchSize × last outFeatures]. Dot products accumulate in float64.
 * @throws EmbedderError DIMENSION_MISMATCH when a layer's input size does not match what reaches it.
 */
export function applyDenseLayers(pooled: Float32Array, batchSize: number, layers: readonly DenseLayer[]): Float32Array {
  let current = pooled;
  let width = batchSize === 0 ? 0 : pooled.length / batchSize;
  for (const layer of layers) {
    if (layer.inFeatures !== width) {
      throw new EmbedderError('DIMENSION_MISMATCH', `Dense layer ${layer.file} takes ${layer.inFeatures} features but receives ${width}`, {
        details: { file: layer.file, inFeatures: layer.inFeatures, received: width },
      });
    }
    const { inFeatures, outFeatures, weight, bias } = layer;
    const next = new Float32Array(batchSize * outFeatures);
    for (let b = 0; b < batchSize; b++) {
      const input = b * inFeatures;
      for (let o = 0; o < outFeatures; o++) {
        let sum = bias ? bias[o]! : 0;
        const row = o * inFeatures;
        for (let i = 0; i < inFeatures; i++) sum += weight[row + i]! * current[input + i]!;
        next[b * outFeatures + o] = activate(sum, layer.activation);
      }
    }
    current = next;
    width = outFeatures;
  }
  return current;
}

/**
 * A session whose run() returns what the sentence-transformers pipeline gives after pooling: the backend's pooled
 * vectors through `layers` (none: the session itself). The one place Dense modules run, for every backend; its
 * dimension is the last layer's output size.
 * @throws EmbedderError MODEL_INVALID when the first layer does not take the session's pooled size.
 */
export function withPostPooling(session: BackendSession, layers: readonly DenseLayer[]): BackendSession {
  if (layers.length === 0) return session;
  const first = layers[0]!;
  if (first.inFeatures !== session.dimension) {
    throw new EmbedderError('MODEL_INVALID', `Dense layer ${first.file} takes in_features ${first.inFeatures} but pooling gives ${session.dimension}`, {
      details: { file: first.file, inFeatures: first.inFeatures, pooled: session.dimension },
    });
  }
  const dimension = layers[layers.length - 1]!.outFeatures;
  const wrapped: BackendSession = {
    info: session.info,
    dimension,
    ...(session.concurrency === undefined ? {} : { concurrency: session.concurrency }),
    async run(batch: TokenizedBatch) {
      return applyDenseLayers(await session.run(batch), batch.batchSize, layers);
    },
    dispose: () => session.dispose(),
  };
  if (session.warmup) wrapped.warmup = () => session.warmup!();
  return wrapped;
}
