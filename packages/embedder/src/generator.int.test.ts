import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedderConfig, type Chunk } from '@embedder-rag/core';
import { embedderFailure, loadMiniLmReference, modelDir, modelRoot } from '@embedder-rag/test-fixtures';
import { EmbeddingGenerator } from './index';

const temp = mkdtempSync(join(tmpdir(), 'embedder-facade-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A copy of all-MiniLM-L6-v2 with its files linked, minus `without`, plus `replace` written as given. */
function miniLmCopy(name: string, without: string[], replace: Record<string, Buffer | string> = {}): string {
  const source = modelDir('all-MiniLM-L6-v2');
  const dir = join(temp, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const entry of readdirSync(source)) if (entry !== 'onnx' && !without.includes(entry)) symlinkSync(join(source, entry), join(dir, entry));
  for (const entry of readdirSync(join(source, 'onnx'))) {
    const path = `onnx/${entry}`;
    if (!without.includes(path) && !(path in replace)) symlinkSync(join(source, path), join(dir, path));
  }
  for (const [path, content] of Object.entries(replace)) writeFileSync(join(dir, path), content);
  return dir;
}

describe('EmbeddingGenerator', () => {
  let generator: EmbeddingGenerator;
  beforeAll(async () => {
    generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(1000));
  });
  afterAll(() => generator.dispose());

  it('keeps chunk order, ids and metadata and fills embeddings', async () => {
    const createdAt = new Date('2026-01-01T00:00:00Z');
    const chunks: Chunk[] = ['first chunk', 'second, longer chunk of text', 'third'].map((content, i) => ({
      id: `c${i}`,
      content,
      metadata: { source: 'doc.pdf', page: i + 1, createdAt, properties: { lang: 'en' } },
      references: [`c${(i + 1) % 3}`],
    }));
    const embedded = await generator.generateEmbeddings(chunks);
    expect(embedded.map((c) => c.id)).toEqual(['c0', 'c1', 'c2']);
    expect(embedded[1]!.metadata).toEqual(chunks[1]!.metadata);
    expect(embedded[2]!.references).toEqual(['c0']);
    const direct = await generator.embed(['second, longer chunk of text']);
    expect(Array.from(embedded[1]!.embedding)).toEqual(Array.from(direct[0]!));
    // The seed's name is the same array.
    expect(embedded[1]!.embeddings).toBe(embedded[1]!.embedding);
  });

  it('serves repeated texts from the cache, bit-identical, within one call too', async () => {
    const before = generator.getStats();
    const [a, b] = await generator.embed(['a cached sentence', 'a cached sentence']);
    const [c] = await generator.embed(['a cached sentence']);
    expect(Buffer.from(a!.buffer).equals(Buffer.from(b!.buffer))).toBe(true);
    expect(Buffer.from(a!.buffer).equals(Buffer.from(c!.buffer))).toBe(true);
    const after = generator.getStats();
    expect(after.cacheHits - before.cacheHits).toBe(2);
    expect(after.cacheMisses - before.cacheMisses).toBe(1);
    // normalize is part of the key: the unnormalised vector is computed, not served.
    const [raw] = await generator.embed(['a cached sentence'], { normalize: false });
    expect(Math.hypot(...raw!)).not.toBeCloseTo(1, 3);
  });

  it('cuts to Matryoshka dimensions and normalises after the cut', async () => {
    const [full] = await generator.embed(['dimensions test'], { normalize: false });
    const [cut] = await generator.embed(['dimensions test'], { dimensions: 64 });
    expect(cut).toHaveLength(64);
    expect(Math.hypot(...cut!)).toBeCloseTo(1, 5);
    const norm = Math.hypot(...full!.slice(0, 64));
    expect(cut![0]).toBeCloseTo(full![0]! / norm, 5);
  });

  it('counts tokens, tokenizes with offsets and decodes', () => {
    expect(generator.countTokens(['hello world'])).toEqual([4]);
    const [tokens] = generator.tokenize(['hello world']);
    expect(tokens!.map((t) => t.text)).toEqual(['[CLS]', 'hello', 'world', '[SEP]']);
    expect(tokens![2]).toMatchObject({ start: 6, stop: 11, special: false });
    expect(generator.decode([[101, 7592, 2088, 102]])).toEqual(['hello world']);
  });

  it.each([
    ['an empty string', ['']],
    ['a non-string', [42]],
    ['an empty array', []],
    ['not an array', 'hello'],
  ])('rejects %s with INVALID_INPUT', async (_name, input) => {
    const error = await embedderFailure(generator.embed(input as string[]));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/text|texts/);
  });

  it('rejects an over-long text when truncation is off, naming the limit', async () => {
    const error = await embedderFailure(generator.embed(['word '.repeat(400)], { truncate: false }));
    expect(error.code).toBe('INPUT_TOO_LONG');
    expect(error.message).toContain('256');
  });

  it('rejects dimensions outside 1..384', async () => {
    for (const dimensions of [0, 10_000]) {
      const error = await embedderFailure(generator.embed(['x'], { dimensions }));
      expect(error.message).toMatch(/from 1 to 384/);
    }
  });
});

describe('embedStream', () => {
  let generator: EmbeddingGenerator;
  // Cache off: every vector below is computed, none read back from an earlier call.
  beforeAll(async () => {
    generator = await EmbeddingGenerator.create(new EmbedderConfig().withModelPath(modelRoot()).withCacheSize(0));
  });
  afterAll(() => generator.dispose());
  const texts = loadMiniLmReference().map((row, index) => `${row.text} (${index})`);

  it('yields every text in input order with the vectors embed() gives', async () => {
    const streamed: { index: number; embedding: Float32Array }[] = [];
    for await (const item of generator.embedStream(texts, { windowSize: 40 })) streamed.push(item);
    const whole = await generator.embed(texts);
    expect(streamed.map((item) => item.index)).toEqual(texts.map((_, index) => index));
    for (const [index, item] of streamed.entries()) {
      let dot = 0;
      for (let d = 0; d < item.embedding.length; d++) dot += item.embedding[d]! * whole[index]![d]!;
      expect(dot).toBeGreaterThan(0.99999);
    }
  });

  it('runs the next window while the consumer still holds the first one', async () => {
    const batches: number[] = [];
    const stop = generator.onBatch((event) => batches.push(event.size));
    const stream = generator.embedStream(texts, { windowSize: 16 });
    const first = await stream.next();
    expect(first.value?.index).toBe(0);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBeGreaterThanOrEqual(16);
    // Without reading further, the second window's batches arrive (the old stream waited for the consumer).
    const embedded = () => batches.reduce((sum, size) => sum + size, 0);
    for (let waited = 0; embedded() < 32 && waited < 60_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(embedded()).toBeGreaterThanOrEqual(32);
    await stream.return(undefined);
    stop();
  }, 120_000);

  it('stops its queued windows when the consumer breaks off, and the generator goes on working', async () => {
    let read = 0;
    for await (const item of generator.embedStream(texts, { windowSize: 8, windowsInFlight: 3 })) {
      read++;
      if (item.index === 2) break;
    }
    expect(read).toBe(3);
    const [vector] = await generator.embed(['still working']);
    expect(vector).toHaveLength(384);
  });
});

describe('EmbeddingGenerator.create errors', () => {
  it('names a missing model folder', async () => {
    const error = await embedderFailure(EmbeddingGenerator.create({ model: join(temp, 'does-not-exist'), offline: true }));
    expect(error.code).toBe('MODEL_NOT_FOUND');
  });

  it('names a folder without tokenizer.json', async () => {
    const error = await embedderFailure(EmbeddingGenerator.create({ model: miniLmCopy('no-tokenizer', ['tokenizer.json']) }));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('tokenizer.json');
  });

  it('names a truncated .onnx file', async () => {
    const onnx = readFileSync(join(modelDir('all-MiniLM-L6-v2'), 'onnx/model.onnx')).subarray(0, 1_000_000);
    const error = await embedderFailure(EmbeddingGenerator.create({ model: miniLmCopy('truncated-onnx', [], { 'onnx/model.onnx': onnx }) }));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('model.onnx');
  });

  it('rejects an unknown dtype when the config is built', () => {
    expect(() => new EmbedderConfig().withDtype('fp8' as 'fp32')).toThrowError(/dtype must be 'fp32', 'q8' or 'q8-dynamic'/);
  });

  it('fails clearly for a name that resolves nowhere with no network', async () => {
    const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9';
    process.env.HF_HUB_CACHE = join(temp, 'empty-hub-cache');
    try {
      const error = await embedderFailure(EmbeddingGenerator.create({ model: 'nobody/no-such-model', modelPath: modelRoot() }));
      expect(['MODEL_NOT_FOUND', 'DOWNLOAD_FAILED']).toContain(error.code);
      expect(error.message).toContain('nobody/no-such-model');
    } finally {
      process.env.HF_ENDPOINT = saved.endpoint;
      process.env.HF_HUB_CACHE = saved.cache;
      if (saved.endpoint === undefined) delete process.env.HF_ENDPOINT;
      if (saved.cache === undefined) delete process.env.HF_HUB_CACHE;
    }
  });
});

describe('persistent cache through the generator', () => {
  it('serves vectors written by an earlier generator bit-identical, and misses for another dtype', async () => {
    const cachePath = join(temp, 'vectors.sqlite');
    const config = new EmbedderConfig().withModelPath(modelRoot()).withCachePath(cachePath);
    const first = await EmbeddingGenerator.create(config);
    const [written] = await first.embed(['persisted across restarts']);
    await first.dispose();

    const second = await EmbeddingGenerator.create(config);
    try {
      const [read] = await second.embed(['persisted across restarts']);
      expect(Buffer.from(read!.buffer, read!.byteOffset, read!.byteLength).equals(Buffer.from(written!.buffer, written!.byteOffset, written!.byteLength))).toBe(true);
      expect(second.getStats()).toMatchObject({ cacheHits: 1, cacheMisses: 0 });
    } finally {
      await second.dispose();
    }

    const quantized = await EmbeddingGenerator.create(config.withDtype('q8'));
    try {
      await quantized.embed(['persisted across restarts']);
      expect(quantized.getStats()).toMatchObject({ cacheHits: 0, cacheMisses: 1 });
    } finally {
      await quantized.dispose();
    }
  });

  it('refuses a foreign file at the cache path with CACHE_CORRUPT naming it', async () => {
    const cachePath = join(temp, 'not-a-cache.sqlite');
    writeFileSync(cachePath, 'these bytes are not a cache store '.repeat(200));
    const error = await embedderFailure(EmbeddingGenerator.create({ modelPath: modelRoot(), cachePath }));
    expect(error.code).toBe('CACHE_CORRUPT');
    expect(error.message).toContain(cachePath);
  });
});
