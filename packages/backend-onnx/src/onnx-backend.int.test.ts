import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, isEmbedderError, l2NormalizeRows, type ModelSpec, type TokenizedBatch } from '@embedder-rag/core';
import { loadTinyBertReference, maxAbsDiff, modelDir } from '@embedder-rag/test-fixtures';
import { onnxBackend } from './index';

const registry = new BackendRegistry().register(onnxBackend());
const backend = await registry.resolve('onnx');
const tinyDir = modelDir('test-fixtures/tiny-bert');
const vespaDir = modelDir('test-fixtures/vespa-dummy-transformer');

function spec(dir: string, overrides: Partial<ModelSpec> = {}): ModelSpec {
  return { id: 'test', dir, architecture: 'bert', hiddenSize: 16, dimension: 16, maxSeqLength: 128, pooling: 'mean', normalize: true, dense: [], includePrompt: true, prompts: {}, config: {}, ...overrides };
}

function batchOf(rows: number[][]): TokenizedBatch {
  const sequenceLength = Math.max(...rows.map((r) => r.length));
  const inputIds = new BigInt64Array(rows.length * sequenceLength);
  const attentionMask = new BigInt64Array(rows.length * sequenceLength);
  rows.forEach((ids, r) => ids.forEach((id, t) => {
    inputIds[r * sequenceLength + t] = BigInt(id);
    attentionMask[r * sequenceLength + t] = 1n;
  }));
  return { inputIds, attentionMask, tokenTypeIds: new BigInt64Array(rows.length * sequenceLength), batchSize: rows.length, sequenceLength };
}

const temp = mkdtempSync(join(tmpdir(), 'embedder-onnx-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The Vespa fixtures are bare .onnx files: lay one out as a model folder (onnx/model.onnx). */
function vespaFolder(file: string): string {
  const dir = join(temp, file.replace('.onnx', ''));
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  copyFileSync(join(vespaDir, file), join(dir, 'onnx/model.onnx'));
  return dir;
}

describe('onnx backend', () => {
  it('reports onnxruntime-node and the weight files per dtype', () => {
    expect(backend.describe?.().runtime).toMatch(/^onnxruntime-node \d+\.\d+/);
    expect(backend.weightFiles('fp32')[0]).toContain('onnx/model.onnx');
    expect(backend.weightFiles('q8-dynamic')[0]).toContain('onnx/model_quantized.onnx');
    expect(backend.weightFiles('q8')[0]).toEqual(['onnx/model_q8_rowwise.onnx', 'onnx/model.onnx', 'model.onnx']);
  });

  it.each(['mean', 'cls', 'max'] as const)('gives tiny-bert %s vectors within 1e-5 of the reference, alone and batched', async (pooling) => {
    const session = await backend.createSession(spec(tinyDir, { pooling }), { dtype: 'fp32', device: 'cpu' });
    const reference = loadTinyBertReference();
    const batched = l2NormalizeRows(await session.run(batchOf(reference.map((row) => row.input_ids))), 16);
    for (const [i, row] of reference.entries()) {
      const alone = l2NormalizeRows(await session.run(batchOf([row.input_ids])), 16);
      expect(maxAbsDiff(alone, row[pooling])).toBeLessThan(1e-5);
      expect(maxAbsDiff(batched.subarray(i * 16, (i + 1) * 16), row[pooling])).toBeLessThan(1e-5);
    }
    await session.dispose();
  });

  it('reads input names from the model: with and without token_type_ids', async () => {
    const withTypes = await backend.createSession(spec(vespaFolder('dummy_transformer.onnx')), { dtype: 'fp32', device: 'cpu' });
    expect(withTypes.info.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    await withTypes.dispose();
    const withoutTypes = await backend.createSession(spec(vespaFolder('dummy_transformer_without_type_ids.onnx')), { dtype: 'fp32', device: 'cpu' });
    expect(withoutTypes.info.inputNames).toEqual(['input_ids', 'attention_mask']);
    const out = await withoutTypes.run(batchOf([[1, 2, 3], [4, 5]]));
    expect(out).toHaveLength(32);
    expect(out.every(Number.isFinite)).toBe(true);
    await withoutTypes.dispose();
  });

  it('fails with MODEL_INVALID naming the file for a truncated or corrupt .onnx, and for a missing one', async () => {
    const truncated = join(temp, 'truncated');
    mkdirSync(join(truncated, 'onnx'), { recursive: true });
    writeFileSync(join(truncated, 'onnx/model.onnx'), readFileSync(join(tinyDir, 'onnx/model.onnx')).subarray(0, 5000));
    const corrupt = join(temp, 'corrupt');
    mkdirSync(join(corrupt, 'onnx'), { recursive: true });
    writeFileSync(join(corrupt, 'onnx/model.onnx'), 'this is not an onnx file');
    for (const dir of [truncated, corrupt]) {
      const error = await backend.createSession(spec(dir), { dtype: 'fp32', device: 'cpu' }).catch((e: unknown) => e);
      expect(isEmbedderError(error, 'MODEL_INVALID')).toBe(true);
      expect((error as Error).message).toContain(join(dir, 'onnx/model.onnx'));
    }
    const missing = await backend.createSession(spec(tinyDir), { dtype: 'q8-dynamic', device: 'cpu' }).catch((e: unknown) => e);
    expect(isEmbedderError(missing, 'MODEL_INVALID')).toBe(true);
    expect((missing as Error).message).toMatch(/model_quantized\.onnx/);
  });

  it('turns a runtime failure into INFERENCE_FAILED and refuses to run after dispose', async () => {
    const session = await backend.createSession(spec(vespaFolder('dummy_transformer.onnx')), { dtype: 'fp32', device: 'cpu' });
    // The dummy model's embedding table has 20 rows: id 500 is out of range.
    const error = await session.run(batchOf([[1, 500]])).catch((e: unknown) => e);
    expect(isEmbedderError(error, 'INFERENCE_FAILED')).toBe(true);
    await session.dispose();
    await expect(session.run(batchOf([[1, 2]]))).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  describe('with replicas on worker threads', () => {
    it('gives the same tiny-bert vectors as one session, runs batches side by side, and reports its replicas', async () => {
      const reference = loadTinyBertReference();
      const session = await backend.createSession(spec(tinyDir), { dtype: 'fp32', device: 'cpu', intraOpThreads: 2, replicas: 2 });
      expect(session.concurrency).toBe(2);
      expect(session.info).toMatchObject({ replicas: 2, intraOpThreads: 1 });
      const rows = reference.map((row) => row.input_ids);
      // Every row on its own batch, all submitted at once: both replicas take a share.
      const vectors = await Promise.all(rows.map((ids) => session.run(batchOf([ids]))));
      for (const [i, row] of reference.entries()) expect(maxAbsDiff(l2NormalizeRows(vectors[i]!, 16), row.mean)).toBeLessThan(1e-5);
      await session.dispose();
    });

    it('maps a runtime failure to INFERENCE_FAILED and keeps serving, then refuses after dispose', async () => {
      const session = await backend.createSession(spec(vespaFolder('dummy_transformer.onnx')), { dtype: 'fp32', device: 'cpu', replicas: 2 });
      const [bad, good] = await Promise.allSettled([session.run(batchOf([[1, 500]])), session.run(batchOf([[1, 2, 3]]))]);
      expect(bad.status === 'rejected' && isEmbedderError(bad.reason, 'INFERENCE_FAILED')).toBe(true);
      expect(good.status === 'fulfilled' && good.value.length).toBe(16);
      expect(await session.run(batchOf([[4, 5]]))).toHaveLength(16);
      await session.dispose();
      await expect(session.run(batchOf([[1, 2]]))).rejects.toMatchObject({ code: 'DISPOSED' });
    });

    it('fails with MODEL_INVALID naming the file when the workers cannot load it', async () => {
      const corrupt = join(temp, 'corrupt-replicas');
      mkdirSync(join(corrupt, 'onnx'), { recursive: true });
      writeFileSync(join(corrupt, 'onnx/model.onnx'), 'this is not an onnx file');
      const error = await backend.createSession(spec(corrupt), { dtype: 'fp32', device: 'cpu', replicas: 2 }).catch((e: unknown) => e);
      expect(isEmbedderError(error, 'MODEL_INVALID')).toBe(true);
      expect((error as Error).message).toContain(join(corrupt, 'onnx/model.onnx'));
    });
  });
});
