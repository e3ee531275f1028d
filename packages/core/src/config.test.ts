import { describe, expect, it } from 'vitest';
import { EmbedderConfig, defaultSettings, settingsFromEnv } from './config';
import { isEmbedderError } from './errors';
import { ModelType } from './models';

function configError(action: () => unknown) {
  try {
    action();
  } catch (error) {
    if (isEmbedderError(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('EmbedderConfig', () => {
  it('starts from the defaults and changes one setting per with*, leaving the original as it was', () => {
    const base = new EmbedderConfig();
    expect(base.settings).toEqual(defaultSettings());
    const tuned = base.withModelType(ModelType.AllMiniLmL6V2).withBatchSize(8).withNormalize(false).withDtype('q8');
    expect(tuned.settings).toMatchObject({ model: 'all-minilm-l6-v2', batchSize: 8, normalize: false, dtype: 'q8' });
    expect(base.settings.batchSize).toBe(32);
    expect(Object.isFrozen(tuned.settings)).toBe(true);
  });

  it('rejects a bad value where it is set, naming the setting', () => {
    expect(configError(() => new EmbedderConfig().withBatchSize(0)).message).toMatch(/^invalid embedder config: batchSize/);
    expect(configError(() => new EmbedderConfig({ dtype: 'fp16' as never })).message).toContain('dtype');
  });

  it('presets: highPerformance is q8 with at least 64 texts a batch; lowMemory caps batch, budget and cache', () => {
    const fast = new EmbedderConfig().highPerformance().settings;
    expect(fast).toMatchObject({ preset: 'high-performance', dtype: 'q8', batchSize: 64, maxBatchTokens: 2048 });
    const small = new EmbedderConfig().lowMemory().settings;
    expect(small).toMatchObject({ preset: 'low-memory', batchSize: 8, maxBatchTokens: 1024, replicas: 1, cacheSize: 1000 });
    const constrained = new EmbedderConfig().optimizeForConstraints(512, 300, 50).settings;
    expect(constrained).toMatchObject({ preset: 'constrained', constraints: { maxMemoryMb: 512, targetThroughput: 300, maxLatencyMs: 50 }, maxBatchTokens: 1024 });
  });
});

describe('settingsFromEnv', () => {
  it('reads EMBEDDER_* variables (empty ones skipped), the TTL in seconds and HF_HUB_OFFLINE', () => {
    expect(
      settingsFromEnv({
        EMBEDDER_MODEL_PATH: '/models',
        EMBEDDER_DTYPE: 'q8',
        EMBEDDER_BATCH_SIZE: '16',
        EMBEDDER_NORMALIZE: 'off',
        EMBEDDER_CACHE_TTL: '60',
        EMBEDDER_CACHE_PATH: '',
        HF_HUB_OFFLINE: '1',
      }),
    ).toEqual({ modelPath: '/models', dtype: 'q8', batchSize: 16, normalize: false, cacheTtlMs: 60_000, offline: true });
    expect(new EmbedderConfig().withEnv({ EMBEDDER_REPLICAS: '2' }).settings.replicas).toBe(2);
  });

  it('names the variable and the accepted values of a bad one', () => {
    expect(configError(() => settingsFromEnv({ EMBEDDER_BATCH_SIZE: '0' })).message).toBe("EMBEDDER_BATCH_SIZE must be a whole number from 1 to 4096, got '0'");
    expect(configError(() => settingsFromEnv({ EMBEDDER_BATCH_SIZE: '3.5' })).message).toContain('EMBEDDER_BATCH_SIZE');
    expect(configError(() => settingsFromEnv({ EMBEDDER_DTYPE: 'int4' })).message).toBe("EMBEDDER_DTYPE must be one of fp32, q8, q8-dynamic, got 'int4'");
    expect(configError(() => settingsFromEnv({ EMBEDDER_NORMALIZE: 'maybe' })).message).toBe("EMBEDDER_NORMALIZE must be true or false, got 'maybe'");
  });
});
