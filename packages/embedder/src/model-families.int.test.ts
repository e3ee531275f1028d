import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbedderConfig, l2NormalizeRows, ModelType, type ModelSpec } from '@embedder-rag/core';
import { loadModelSpec, resolveModel } from '@embedder-rag/models';
import { onnxBackend } from '@embedder-rag/backend-onnx';
import {
  embedderFailure,
  FAMILY_FIXTURES,
  loadFamilyReference,
  loadTinyBertReference,
  maxAbsDiff,
  modelDir,
  modelRoot,
  type FamilyReferenceRow,
} from '@embedder-rag/test-fixtures';
import { loadTokenizer } from '@embedder-rag/tokenizer';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingGenerator } from './generator';

const temp = mkdtempSync(join(tmpdir(), 'embedder-families-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** One padded batch for every text: no token budget, padding ratio or batch cost splits it. */
const ONE_BATCH = { cacheSize: 0, batchSize: 256, maxBatchTokens: 1 << 20, maxPaddingRatio: 1000, batchOverheadTokens: 1_000_000, replicas: 1 };

/** A copy of a fixture with its files linked, `edit` applied to the copy. */
function linkedCopy(fixture: string, name: string, replace: Record<string, string>): string {
  const source = modelDir(`test-fixtures/${fixture}`);
  const dir = join(temp, name);
  mkdirSync(dir, { recursive: true });
  const top = new Set(Object.keys(replace).map((path) => path.split('/')[0]!));
  for (const entry of readdirSync(source)) if (!top.has(entry)) symlinkSync(join(source, entry), join(dir, entry));
  for (const [path, text] of Object.entries(replace)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const BACKENDS = ['onnx', 'tfjs'] as const;

describe.each(FAMILY_FIXTURES.flatMap((fixture) => BACKENDS.map((backend) => [fixture, backend] as const)))('%s through the library (%s)', (fixture, backend) => {
  // The library refuses "" with INVALID_INPUT (the backend conformance suite covers the "" rows).
  const rows = loadFamilyReference(fixture).filter((row) => row.text !== '');

  it('gives every reference vector within 1e-5 and its token count, alone and in one mixed-length batch', { timeout: 120_000 }, async () => {
    const generator = await EmbeddingGenerator.create({ model: modelDir(`test-fixtures/${fixture}`), backend, ...ONE_BATCH });
    try {
      const promptName = (row: FamilyReferenceRow) => (row.prompt_name ? { promptName: row.prompt_name } : {});
      let worstAlone = 0;
      for (const row of rows) {
        const result = await generator.embedWithDetails([row.text], promptName(row));
        worstAlone = Math.max(worstAlone, maxAbsDiff(result.embeddings[0]!, row.embedding));
        expect(result.tokenCounts[0], row.text).toBe(row.tokens);
      }
      // Calls with and without a prompt, made at once, share one padded batch.
      const sizes: number[] = [];
      generator.onBatch((event) => sizes.push(event.size));
      const plain = rows.filter((row) => !row.prompt_name);
      const prompted = rows.filter((row) => row.prompt_name);
      const names = [...new Set(prompted.map((row) => row.prompt_name!))];
      const results = await Promise.all([
        generator.embedWithDetails(plain.map((row) => row.text)),
        ...names.map((name) => generator.embedWithDetails(prompted.filter((row) => row.prompt_name === name).map((row) => row.text), { promptName: name })),
      ]);
      const batchedRows = [plain, ...names.map((name) => prompted.filter((row) => row.prompt_name === name))].flat();
      const vectors = results.flatMap((result) => result.embeddings);
      const counts = results.flatMap((result) => result.tokenCounts);
      const worstBatched = Math.max(...batchedRows.map((row, i) => maxAbsDiff(vectors[i]!, row.embedding)));
      console.info(`[families] ${fixture} ${backend} via the library: ${rows.length} rows, worst max abs diff alone ${worstAlone.toExponential(2)}, batched ${worstBatched.toExponential(2)} (batches ${sizes.join('+')})`);
      expect(sizes).toEqual([rows.length]);
      expect(counts).toEqual(batchedRows.map((row) => row.tokens));
      expect(worstAlone).toBeLessThanOrEqual(1e-5);
      expect(worstBatched).toBeLessThanOrEqual(1e-5);
      expect(generator.model.dimension).toBe(rows[0]!.embedding.length);
    } finally {
      await generator.dispose();
    }
  });
});

describe('prompts', () => {
  it('resolves promptName from the model, prefers an explicit prompt, and refuses unknown names with INVALID_INPUT', async () => {
    const generator = await EmbeddingGenerator.create({ model: modelDir('test-fixtures/tiny-xlm-roberta'), cacheSize: 100 });
    try {
      expect(generator.model.prompts).toEqual({ query: 'query: ', passage: 'passage: ' });
      const [named] = await generator.embed(['hello world'], { promptName: 'query' });
      const [explicit] = await generator.embed(['hello world'], { prompt: 'query: ' });
      const [plain] = await generator.embed(['hello world']);
      const [passage] = await generator.embed(['hello world'], { promptName: 'passage' });
      expect(maxAbsDiff(named!, explicit!)).toBe(0);
      // The cache key covers the prompt: the cached plain vector is not served for a prompted call.
      expect(maxAbsDiff(named!, plain!)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(named!, passage!)).toBeGreaterThan(1e-3);
      expect(generator.countTokens(['hello world'], { promptName: 'query' })[0]).toBeGreaterThan(generator.countTokens(['hello world'])[0]!);
      const error = await embedderFailure(generator.embed(['hello world'], { promptName: 'document' }));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain("'document'");
      expect(error.message).toContain('query, passage');
    } finally {
      await generator.dispose();
    }
  });

  it('uses default_prompt_name when a call names no prompt', async () => {
    const dir = linkedCopy('tiny-xlm-roberta', 'default-prompt', {
      'config_sentence_transformers.json': JSON.stringify({ prompts: { query: 'query: ' }, default_prompt_name: 'query' }),
    });
    const generator = await EmbeddingGenerator.create({ model: dir, cacheSize: 0 });
    try {
      const row = loadFamilyReference('tiny-xlm-roberta').find((r) => r.prompt_name === 'query')!;
      const [vector] = await generator.embed([row.text]);
      expect(maxAbsDiff(vector!, row.embedding)).toBeLessThanOrEqual(1e-5);
    } finally {
      await generator.dispose();
    }
  });

  it('leaves the prompt tokens out of pooling when include_prompt is false (the encoder still sees them)', async () => {
    const dir = linkedCopy('tiny-xlm-roberta', 'exclude-prompt', {
      '1_Pooling/config.json': JSON.stringify({ pooling_mode: 'mean', include_prompt: false }),
    });
    const generator = await EmbeddingGenerator.create({ model: dir, cacheSize: 0 });
    const spec: ModelSpec = await loadModelSpec(dir);
    const session = await (await onnxBackend().create()).createSession(spec, { dtype: 'fp32', device: 'cpu' });
    try {
      const text = 'the weather is lovely today';
      const [excluded] = await generator.embed([text], { promptName: 'query' });
      // Expected, built by hand: sentence-transformers masks tokenize("query: ") minus its closing </s>, i.e. <s> and
      // the prompt's pieces, for pooling only.
      const tokenizer = await loadTokenizer(dir, { maxSeqLength: spec.maxSeqLength });
      const promptTokens = tokenizer.encode('query: ').ids.length - 1;
      const ids = tokenizer.encode(`query: ${text}`).ids;
      const batch = tokenizer.collate([{ ids, fullLength: ids.length, truncated: false }]);
      const poolingMask = batch.attentionMask.slice();
      poolingMask.fill(0n, 0, promptTokens);
      const expected = l2NormalizeRows(await session.run({ ...batch, poolingMask }), spec.hiddenSize);
      const included = l2NormalizeRows(await session.run(batch), spec.hiddenSize);
      expect(promptTokens).toBeGreaterThan(1);
      expect(maxAbsDiff(excluded!, expected)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(excluded!, included)).toBeGreaterThan(1e-3);
    } finally {
      await session.dispose();
      await generator.dispose();
    }
  });
});

function norm(vector: Float32Array): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

describe("normalisation follows the model's modules.json unless the config says", () => {
  // tiny-mpnet's reference is sentence-transformers' output with its Normalize module; a copy without that module is
  // what sentence-transformers would not normalise.
  const rows = loadFamilyReference('tiny-mpnet').filter((row) => row.text !== '');
  const texts = rows.map((row) => row.text);
  const withoutNormalize = () => {
    const modules = (JSON.parse(readFileSync(join(modelDir('test-fixtures/tiny-mpnet'), 'modules.json'), 'utf8')) as Array<{ type: string }>).filter(
      (module) => !module.type.endsWith('Normalize'),
    );
    expect(modules).toHaveLength(2);
    return linkedCopy('tiny-mpnet', 'no-normalize-module', { 'modules.json': JSON.stringify(modules) });
  };
  const worst = (vectors: Float32Array[], transform = (vector: Float32Array) => vector) =>
    Math.max(...rows.map((row, i) => maxAbsDiff(transform(Float32Array.from(vectors[i]!)), row.embedding)));

  it('a Normalize module: unit vectors equal to the reference by default; normalize: false in the config wins', async () => {
    const byDefault = await EmbeddingGenerator.create({ model: modelDir('test-fixtures/tiny-mpnet'), cacheSize: 0 });
    const off = await EmbeddingGenerator.create({ model: modelDir('test-fixtures/tiny-mpnet'), cacheSize: 0, normalize: false });
    try {
      expect(byDefault.model.normalize).toBe(true);
      expect(worst(await byDefault.embed(texts))).toBeLessThanOrEqual(1e-5);
      const raw = await off.embed(texts);
      expect(Math.max(...raw.map((vector) => Math.abs(norm(vector) - 1)))).toBeGreaterThan(0.1);
      expect(worst(raw, (vector) => l2NormalizeRows(vector, vector.length))).toBeLessThanOrEqual(1e-5);
    } finally {
      await byDefault.dispose();
      await off.dispose();
    }
  });

  it('no Normalize module: vectors as pooled by default (the reference direction, not unit length); normalize: true wins', async () => {
    const dir = withoutNormalize();
    const byDefault = await EmbeddingGenerator.create({ model: dir, cacheSize: 0 });
    const on = await EmbeddingGenerator.create(new EmbedderConfig({ model: dir, cacheSize: 0 }).withEnv({ EMBEDDER_NORMALIZE: 'true' }));
    try {
      expect(byDefault.model.normalize).toBe(false);
      const raw = await byDefault.embed(texts);
      expect(Math.max(...raw.map((vector) => Math.abs(norm(vector) - 1)))).toBeGreaterThan(0.1);
      expect(worst(raw, (vector) => l2NormalizeRows(vector, vector.length))).toBeLessThanOrEqual(1e-5);
      expect(worst(await on.embed(texts))).toBeLessThanOrEqual(1e-5);
      // A call's normalize wins over both.
      expect(worst(await byDefault.embed(texts, { normalize: true }))).toBeLessThanOrEqual(1e-5);
    } finally {
      await byDefault.dispose();
      await on.dispose();
    }
  });

  it('all-MiniLM-L6-v2 (Normalize module) comes back unit length by default', async () => {
    const generator = await EmbeddingGenerator.create({ model: 'all-minilm-l6-v2', modelPath: modelRoot(), cacheSize: 0, threads: 1 });
    try {
      expect(generator.settings.normalize).toBeUndefined();
      expect(generator.model.normalize).toBe(true);
      for (const vector of await generator.embed(['Hello, world!', 'A man is playing a guitar.'])) expect(Math.abs(norm(vector) - 1)).toBeLessThan(1e-6);
    } finally {
      await generator.dispose();
    }
  });
});

describe('presets by name', () => {
  it('loads a bert-base-uncased layout (pytorch_model.bin with bert. names, no sentence-transformers files) as ModelType.BertBaseUncased under EMBEDDER_MODEL_PATH, with mean pooling', async () => {
    // A copy of tiny-bert laid out as the Hub's bert-base-uncased: configs, tokenizer, the .bin and an ONNX export.
    const root = join(temp, 'model-path');
    const dir = join(root, 'bert-base-uncased');
    const source = modelDir('test-fixtures/tiny-bert');
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'pytorch_model.bin']) cpSync(join(source, file), join(dir, file));
    cpSync(join(source, 'onnx', 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
    const generator = await EmbeddingGenerator.create(new EmbedderConfig({ model: ModelType.BertBaseUncased, cacheSize: 0, offline: true }).withEnv({ EMBEDDER_MODEL_PATH: root }));
    const normalized = await EmbeddingGenerator.create(new EmbedderConfig({ model: ModelType.BertBaseUncased, cacheSize: 0, offline: true, normalize: true }).withEnv({ EMBEDDER_MODEL_PATH: root }));
    try {
      // No sentence_bert_config.json: the length is the tokenizer's model_max_length (512), not tiny-bert's 128.
      expect(generator.model).toMatchObject({ id: 'bert-base-uncased', repoId: 'google-bert/bert-base-uncased', dir, pooling: 'mean', normalize: false, dimension: 16, maxSeqLength: 512 });
      const rows = loadTinyBertReference().filter((row) => row.tokens < 128);
      expect(rows.length).toBe(loadTinyBertReference().length - 1);
      // No modules.json, so no Normalize module: the mean-pooled vectors come back as pooled (the reference's `mean`
      // is L2-normalised: equal in direction, not in length); normalize: true in the config still normalises.
      const raw = await generator.embed(rows.map((row) => row.text));
      expect(Math.max(...raw.map((vector) => Math.abs(norm(vector) - 1)))).toBeGreaterThan(0.1);
      expect(Math.max(...rows.map((row, i) => maxAbsDiff(l2NormalizeRows(Float32Array.from(raw[i]!), 16), row.mean)))).toBeLessThanOrEqual(1e-5);
      const asked = await normalized.embed(rows.map((row) => row.text));
      expect(Math.max(...rows.map((row, i) => maxAbsDiff(asked[i]!, row.mean)))).toBeLessThanOrEqual(1e-5);
      expect(generator.countTokens([loadTinyBertReference().find((row) => row.tokens === 128)!.text])[0]).toBeGreaterThan(128);
    } finally {
      await generator.dispose();
      await normalized.dispose();
    }
  });

  it('resolves BAAI/bge-small-en-v1.5 by name to CLS pooling + normalize + 384 dimensions', async () => {
    const root = join(temp, 'bge-root');
    mkdirSync(root, { recursive: true });
    symlinkSync(modelDir('test-fixtures/bge-small-en-v1.5-configs'), join(root, 'bge-small-en-v1.5'));
    for (const name of [ModelType.BgeSmallEnV15, 'BAAI/bge-small-en-v1.5']) {
      const resolved = await resolveModel(name, { modelPath: root, offline: true });
      expect(resolved).toMatchObject({ id: 'bge-small-en-v1.5', repoId: 'BAAI/bge-small-en-v1.5', source: 'model-path' });
      const spec = await loadModelSpec(resolved.dir, resolved);
      expect(spec).toMatchObject({ pooling: 'cls', normalize: true, dimension: 384, dense: [] });
    }
  });
});
