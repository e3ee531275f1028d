import { describe, expect, it } from 'vitest';
import { isEmbedderError, throughputReplicas } from '@embedder-rag/core';
import { parseServerConfig, serverConfigSchema } from './config';
import { parseModelEntry } from './model-entry';

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('parseServerConfig', () => {
  it('has the documented defaults', () => {
    const config = parseServerConfig({ env: {} });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      models: ['all-minilm-l6-v2'],
      maxConcurrentRequests: 512,
      maxClientBatchSize: 2048,
      payloadLimit: 2_000_000,
      queueSize: 4096,
      shutdownGraceMs: 30_000,
      logLevel: 'info',
    });
    expect(config.apiKey).toBeUndefined();
    expect(config.corsOrigin).toBeUndefined();
    expect(serverConfigSchema.parse(config)).toEqual(config);
  });

  it('reads EMBEDDER_* variables, with model settings through core', () => {
    const config = parseServerConfig({
      env: {
        EMBEDDER_PORT: '9000',
        EMBEDDER_HOST: '127.0.0.1',
        EMBEDDER_MODELS: 'all-minilm-l6-v2, test-fixtures/tiny-bert',
        EMBEDDER_API_KEY: 'secret',
        EMBEDDER_QUEUE_SIZE: '100',
        EMBEDDER_MAX_BATCH_TOKENS: '4096',
        EMBEDDER_MODEL_PATH: '/models',
        EMBEDDER_CORS_ORIGIN: '*',
        RUST_LOG: 'text_embeddings_router=debug,tower=warn',
      },
    });
    expect(config.port).toBe(9000);
    expect(config.models).toEqual(['all-minilm-l6-v2', 'test-fixtures/tiny-bert']);
    expect(config.apiKey).toBe('secret');
    expect(config.queueSize).toBe(100);
    expect(config.modelSettings).toMatchObject({ maxBatchTokens: 4096, modelPath: '/models' });
    expect(config.corsOrigin).toBe('*');
    expect(config.logLevel).toBe('debug');
  });

  it('runs a model copy per core pair by default on the CPU, and what EMBEDDER_REPLICAS, threads or the device say', () => {
    expect(parseServerConfig({ env: {} }).modelSettings.replicas).toBe(throughputReplicas());
    expect(parseServerConfig({ env: { EMBEDDER_REPLICAS: '1' } }).modelSettings.replicas).toBe(1);
    expect(parseServerConfig({ env: {}, argv: ['--replicas', '3'] }).modelSettings.replicas).toBe(3);
    expect(parseServerConfig({ env: { EMBEDDER_THREADS: '1' } }).modelSettings.replicas).toBe(1);
    expect(parseServerConfig({ env: { EMBEDDER_THREADS: '8' } }).modelSettings.replicas).toBe(throughputReplicas());
    expect(parseServerConfig({ env: { EMBEDDER_DEVICE: 'cuda' } }).modelSettings.replicas).toBe(1);
    expect(parseServerConfig({ env: {}, overrides: { modelSettings: { replicas: 1 } } }).modelSettings.replicas).toBe(1);
  });

  it('takes the default model from EMBEDDER_MODEL_TYPE when EMBEDDER_MODELS is unset', () => {
    expect(parseServerConfig({ env: { EMBEDDER_MODEL_TYPE: 'bert-base-uncased' } }).models).toEqual(['bert-base-uncased']);
  });

  it('lets flags override variables; --model repeats', () => {
    const config = parseServerConfig({
      env: { EMBEDDER_PORT: '9000', LOG_LEVEL: 'warn' },
      argv: ['--port', '9100', '--model', 'a', '--model', 'b', '--max-batch-tokens', '2048', '--log-level', 'error'],
    });
    expect(config.port).toBe(9100);
    expect(config.models).toEqual(['a', 'b']);
    expect(config.modelSettings.maxBatchTokens).toBe(2048);
    expect(config.logLevel).toBe('error');
  });

  it.each([
    [{ EMBEDDER_PORT: '70000' }, 'EMBEDDER_PORT must be a whole number from 0 to 65535'],
    [{ EMBEDDER_PORT: 'abc' }, "EMBEDDER_PORT must be a whole number from 0 to 65535, got 'abc'"],
    [{ EMBEDDER_QUEUE_SIZE: '0' }, 'EMBEDDER_QUEUE_SIZE must be a whole number from 1 to'],
    [{ EMBEDDER_PAYLOAD_LIMIT: '10' }, 'EMBEDDER_PAYLOAD_LIMIT must be a whole number from 1024 to'],
    [{ EMBEDDER_SHUTDOWN_GRACE_MS: '-1' }, 'EMBEDDER_SHUTDOWN_GRACE_MS must be a whole number from 0 to'],
    [{ EMBEDDER_MAX_BATCH_TOKENS: '0' }, 'EMBEDDER_MAX_BATCH_TOKENS must be a whole number from 1 to 1048576'],
    [{ EMBEDDER_MAX_CONCURRENT_REQUESTS: '1.5' }, 'EMBEDDER_MAX_CONCURRENT_REQUESTS must be a whole number'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ RUST_LOG: 'loud' }, 'RUST_LOG must be one of'],
    [{ EMBEDDER_DTYPE: 'fp8' }, 'EMBEDDER_DTYPE must be one of fp32, q8'],
  ])('fails fast on %o, naming the variable and range', (env, message) => {
    const error = failure(() => parseServerConfig({ env }));
    expect(isEmbedderError(error, 'INVALID_CONFIG')).toBe(true);
    expect(error.message).toContain(message);
  });

  it('names the flag when a flag is bad', () => {
    expect(failure(() => parseServerConfig({ env: {}, argv: ['--port=70000'] })).message).toContain('--port must be a whole number from 0 to 65535');
    expect(failure(() => parseServerConfig({ env: {}, argv: ['--batch-size', '0'] })).message).toContain('--batch-size must be a whole number from 1 to 4096');
    expect(failure(() => parseServerConfig({ env: {}, argv: ['--bogus'] })).message).toContain("Unknown option '--bogus'");
  });

  it('reads name@dtype entries; a folder whose path holds @ stays a name', () => {
    const models = ['all-minilm-l6-v2', 'all-minilm-l6-v2@q8', '/models/v2@2024/minilm@q8-dynamic', '/models/v2@2024/minilm'];
    expect(parseServerConfig({ env: { EMBEDDER_MODELS: models.join(',') } }).models).toEqual(models);
    expect(models.map((entry) => parseModelEntry(entry))).toEqual([
      { model: 'all-minilm-l6-v2' },
      { model: 'all-minilm-l6-v2', dtype: 'q8' },
      { model: '/models/v2@2024/minilm', dtype: 'q8-dynamic' },
      { model: '/models/v2@2024/minilm' },
    ]);
  });

  it.each([
    [{ env: { EMBEDDER_MODELS: 'all-minilm-l6-v2,all-minilm-l6-v2@q4' } }, "EMBEDDER_MODELS entry 'all-minilm-l6-v2@q4' has unknown dtype 'q4' after '@' (accepted: fp32, q8, q8-dynamic)"],
    [{ env: { EMBEDDER_MODELS: 'all-minilm-l6-v2@' } }, "EMBEDDER_MODELS entry 'all-minilm-l6-v2@' has no dtype after '@' (accepted: fp32, q8, q8-dynamic)"],
    [{ env: { EMBEDDER_MODELS: '@q8' } }, "EMBEDDER_MODELS entry '@q8' has no model name before '@' (write name@dtype, e.g. all-minilm-l6-v2@q8)"],
    [{ env: {}, argv: ['--model', 'a', '--model', 'b@fp16'] }, "--model entry 'b@fp16' has unknown dtype 'fp16' after '@'"],
    [{ env: {}, overrides: { models: ['a', ' @q8'] } }, "models entry ' @q8' has no model name before '@'"],
  ])('a bad entry is INVALID_CONFIG naming its source and the dtypes: %o', (sources, message) => {
    const error = failure(() => parseServerConfig(sources));
    expect(isEmbedderError(error, 'INVALID_CONFIG')).toBe(true);
    expect(error.message).toContain(message);
  });
});
