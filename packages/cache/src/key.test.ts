import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEmbedderError } from '@embedder-rag/core';
import { modelDir } from '@embedder-rag/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, fingerprintFile, type CacheKeyParts } from './index';

const base: CacheKeyParts = {
  modelId: 'all-MiniLM-L6-v2',
  weightsFingerprint: 'abc',
  dtype: 'fp32',
  pooling: 'mean',
  normalize: true,
  maxSeqLength: 256,
  truncate: true,
  truncationDirection: 'right',
  text: 'hello world',
};

describe('cacheKey', () => {
  it('is a stable sha256 hex of the parts', () => {
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base })).toBe(cacheKey(base));
  });

  it('changes with every field that changes the vector', () => {
    const variants: Partial<CacheKeyParts>[] = [
      { modelId: 'all-MiniLM-L12-v2' },
      { weightsFingerprint: 'abd' },
      { dtype: 'fp16' },
      { pooling: 'cls' },
      { normalize: false },
      { dimensions: 128 },
      { maxSeqLength: 128 },
      { truncate: false },
      { truncationDirection: 'left' },
      { prompt: 'query: ' },
      { prompt: '' },
      { text: 'hello world ' },
    ];
    const keys = new Set([cacheKey(base), ...variants.map((v) => cacheKey({ ...base, ...v }))]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('keeps field boundaries unambiguous', () => {
    expect(cacheKey({ ...base, modelId: 'a', weightsFingerprint: 'bc' })).not.toBe(cacheKey({ ...base, modelId: 'ab', weightsFingerprint: 'c' }));
    expect(cacheKey({ ...base, prompt: 'x', text: 'y' })).not.toBe(cacheKey({ ...base, prompt: 'xy', text: '' }));
    expect(cacheKey({ ...base, prompt: '"', text: ',' })).not.toBe(cacheKey({ ...base, prompt: '",', text: '' }));
  });

  it('rejects a non-string text', () => {
    expect(() => cacheKey({ ...base, text: 3 as unknown as string })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('fingerprintFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-fp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const weights = join(modelDir('all-MiniLM-L6-v2'), 'onnx', 'model_quantized.onnx');

  it('is stable for the real weights file and differs between the two model files', async () => {
    const a = await fingerprintFile(weights);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprintFile(weights)).toBe(a);
    expect(await fingerprintFile(join(modelDir('all-MiniLM-L6-v2'), 'onnx', 'model.onnx'))).not.toBe(a);
  });

  it('sees a changed head or tail and a changed mtime', async () => {
    const copy = join(dir, 'model.onnx');
    copyFileSync(weights, copy);
    const original = await fingerprintFile(copy);
    const bytes = readFileSync(copy);
    const stamp = new Date('2020-01-01T00:00:00Z');
    for (const position of [10, bytes.length - 10]) {
      const changed = Buffer.from(bytes);
      changed[position] = changed[position]! ^ 0xff;
      writeFileSync(copy, changed);
      const { utimesSync } = await import('node:fs');
      utimesSync(copy, stamp, stamp);
      const flipped = await fingerprintFile(copy);
      writeFileSync(copy, bytes);
      utimesSync(copy, stamp, stamp);
      expect(flipped).not.toBe(await fingerprintFile(copy));
    }
    expect(await fingerprintFile(copy)).not.toBe(original);
  });

  it('without the mtime, agrees between copies made at different times and still sees changed content', async () => {
    const { utimesSync } = await import('node:fs');
    const first = join(dir, 'first.onnx');
    const second = join(dir, 'second.onnx');
    copyFileSync(weights, first);
    copyFileSync(weights, second);
    utimesSync(first, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    utimesSync(second, new Date('2024-06-01T00:00:00Z'), new Date('2024-06-01T00:00:00Z'));
    expect(await fingerprintFile(first)).not.toBe(await fingerprintFile(second));
    expect(await fingerprintFile(first, { includeMtime: false })).toBe(await fingerprintFile(second, { includeMtime: false }));
    const changed = readFileSync(second);
    changed[10] = changed[10]! ^ 0xff;
    writeFileSync(second, changed);
    expect(await fingerprintFile(second, { includeMtime: false })).not.toBe(await fingerprintFile(first, { includeMtime: false }));
  });

  it('fingerprints small files whole and names a missing path in CACHE_FAILED', async () => {
    const small = join(dir, 'small.bin');
    writeFileSync(small, 'abc');
    expect(await fingerprintFile(small)).toMatch(/^[0-9a-f]{64}$/);
    const error = await fingerprintFile(join(dir, 'missing.bin')).catch((e: unknown) => e);
    expect(isEmbedderError(error, 'CACHE_FAILED')).toBe(true);
    expect((error as Error).message).toContain('missing.bin');
  });
});
