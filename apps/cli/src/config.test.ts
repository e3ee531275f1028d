import { describe, expect, it } from 'vitest';
import { buildConfig } from './config';

describe('buildConfig', () => {
  it('applies EMBEDDER_* variables, then flags over them', () => {
    const env = { EMBEDDER_DTYPE: 'q8', EMBEDDER_BATCH_SIZE: '8', EMBEDDER_MODEL_PATH: '/models' };
    expect(buildConfig({}, env).settings).toMatchObject({ dtype: 'q8', batchSize: 8, modelPath: '/models' });
    // Unset: the model's modules.json decides (a Normalize module or not).
    expect(buildConfig({}, env).settings.normalize).toBeUndefined();
    const flagged = buildConfig({ dtype: 'fp32', batchSize: 1, normalize: false, model: '/x/my-model' }, env).settings;
    expect(flagged).toMatchObject({ dtype: 'fp32', batchSize: 1, normalize: false, model: '/x/my-model', modelPath: '/models' });
    expect(buildConfig({}, { EMBEDDER_REPLICAS: '2' }).settings.replicas).toBe(2);
    expect(buildConfig({ replicas: 1 }, { EMBEDDER_REPLICAS: '2' }).settings.replicas).toBe(1);
  });
  it('rejects bad values with INVALID_CONFIG naming them', () => {
    expect(() => buildConfig({}, { EMBEDDER_DTYPE: 'fp16' })).toThrow(/EMBEDDER_DTYPE must be one of fp32, q8, q8-dynamic, got 'fp16'/);
    expect(() => buildConfig({ batchSize: 100_000 }, {})).toThrow(/batchSize must be from 1 to 4096/);
    expect(() => buildConfig({}, { EMBEDDER_REPLICAS: '0' })).toThrow(/EMBEDDER_REPLICAS must be a whole number from 1 to 64, got '0'/);
  });
});
