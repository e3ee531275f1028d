import { describe, expect, it } from 'vitest';
import type { BackendSession, TokenizedBatch } from './backend';
import { isEmbedderError } from './errors';
import { poolBatch, poolHiddenStates } from './pooling';
import { applyDenseLayers, parseDenseActivation, withPostPooling, type DenseLayer } from './post-pooling';

// One text of 3 tokens (the last one padding) with hidden size 2: rows [1, 2], [3, -4], [100, 100].
const hidden = Float32Array.from([1, 2, 3, -4, 100, 100]);
const mask = BigInt64Array.from([1n, 1n, 0n]);
const shape = { batchSize: 1, sequenceLength: 3, hiddenSize: 2 };
const pool = (mode: Parameters<typeof poolHiddenStates>[3]) => Array.from(poolHiddenStates(hidden, mask, shape, mode));

describe('poolHiddenStates: every sentence-transformers mode, padding ignored', () => {
  it('cls, mean, max', () => {
    expect(pool('cls')).toEqual([1, 2]);
    expect(pool('mean')).toEqual([2, -1]);
    expect(pool('max')).toEqual([3, 2]);
  });
  it('mean_sqrt_len_tokens divides the sum by sqrt(count)', () => {
    const [a, b] = pool('mean_sqrt_len_tokens');
    expect(a).toBeCloseTo(4 / Math.SQRT2, 6);
    expect(b).toBeCloseTo(-2 / Math.SQRT2, 6);
  });
  it('weightedmean weighs position t by t + 1', () => {
    const [a, b] = pool('weightedmean');
    expect(a).toBeCloseTo((1 * 1 + 2 * 3) / 3, 6);
    expect(b).toBeCloseTo((1 * 2 + 2 * -4) / 3, 6);
  });
  it('lasttoken takes the last token with mask 1', () => {
    expect(pool('lasttoken')).toEqual([3, -4]);
  });
  it('poolBatch pools over the poolingMask when the batch has one (prompt tokens left out)', () => {
    const batch: TokenizedBatch = { inputIds: new BigInt64Array(3), attentionMask: mask, tokenTypeIds: new BigInt64Array(3), batchSize: 1, sequenceLength: 3 };
    expect(Array.from(poolBatch(hidden, batch, 2, 'mean'))).toEqual([2, -1]);
    expect(Array.from(poolBatch(hidden, { ...batch, poolingMask: BigInt64Array.from([0n, 1n, 0n]) }, 2, 'mean'))).toEqual([3, -4]);
  });
});

describe('Dense layers after pooling', () => {
  const layer = (overrides: Partial<DenseLayer> = {}): DenseLayer => ({
    inFeatures: 2,
    outFeatures: 3,
    weight: Float32Array.from([1, 0, 0, 1, 1, 1]),
    bias: Float32Array.from([0, 0, -10]),
    activation: 'identity',
    file: '/m/2_Dense/model.safetensors',
    ...overrides,
  });

  it('computes activation(W x + b) per row, chaining layers', () => {
    expect(Array.from(applyDenseLayers(Float32Array.from([2, 3, -1, 1]), 2, [layer()]))).toEqual([2, 3, -5, -1, 1, -10]);
    const tanh = applyDenseLayers(Float32Array.from([2, 3]), 1, [layer({ activation: 'tanh' })]);
    expect(tanh[0]).toBeCloseTo(Math.tanh(2), 6);
    const relu = applyDenseLayers(Float32Array.from([2, 3]), 1, [layer(), layer({ inFeatures: 3, outFeatures: 1, weight: Float32Array.from([0, 0, 1]), bias: undefined, activation: 'relu' })]);
    expect(Array.from(relu)).toEqual([0]);
  });

  it('names the activation by its torch class, whatever the module path; others are UNSUPPORTED naming the file', () => {
    expect(parseDenseActivation('torch.nn.modules.linear.Identity', 'f')).toBe('identity');
    expect(parseDenseActivation('torch.nn.modules.activation.Tanh', 'f')).toBe('tanh');
    try {
      parseDenseActivation('torch.nn.modules.activation.Softsign', '/m/2_Dense/config.json');
      expect.unreachable();
    } catch (error) {
      expect(isEmbedderError(error, 'UNSUPPORTED')).toBe(true);
      expect(String(error)).toContain('/m/2_Dense/config.json');
    }
  });

  it('withPostPooling runs them after any session and reports their output size as the dimension', async () => {
    const session: BackendSession = {
      info: { backend: 'fake', runtime: 'none', dtype: 'fp32', device: 'cpu', modelFile: 'x', inputNames: [] },
      dimension: 2,
      run: async (batch) => Float32Array.from({ length: batch.batchSize * 2 }, (_, i) => i),
      dispose: async () => undefined,
    };
    expect(withPostPooling(session, [])).toBe(session);
    const wrapped = withPostPooling(session, [layer()]);
    expect(wrapped.dimension).toBe(3);
    const batch: TokenizedBatch = { inputIds: new BigInt64Array(2), attentionMask: new BigInt64Array(2), tokenTypeIds: new BigInt64Array(2), batchSize: 2, sequenceLength: 1 };
    expect(Array.from(await wrapped.run(batch))).toEqual([0, 1, -9, 2, 3, -5]);
    expect(() => withPostPooling(session, [layer({ inFeatures: 4 })])).toThrow(/in_features 4 but pooling gives 2/);
  });
});
