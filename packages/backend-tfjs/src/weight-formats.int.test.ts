import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isEmbedderError, l2NormalizeRows, type Backend, type PoolingMode } from '@embedder/core';
import { loadTinyBertReference, maxAbsDiff, modelDir } from '@embedder/test-fixtures';
import { batchFromIds, loadTestModel, row } from '@embedder/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsBackend } from './backend';

/** A copy of a model folder (symlinks) without some files, e.g. without model.safetensors. */
function folderWithout(source: string, leaveOut: readonly string[], extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-tfjs-'));
  for (const name of readdirSync(source)) if (!leaveOut.includes(name)) symlinkSync(join(source, name), join(dir, name));
  for (const [name, target] of Object.entries(extra)) symlinkSync(target, join(dir, name));
  return dir;
}

describe('tfjs weight formats', () => {
  let backend: Backend;
  const folders: string[] = [];
  beforeAll(async () => {
    backend = new TfjsBackend();
    await backend.init();
  });
  afterAll(() => {
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('prefers model.safetensors when both files are present', async () => {
    const session = await backend.createSession(await loadTestModel(modelDir('test-fixtures/tiny-bert')), { dtype: 'fp32', device: 'cpu' });
    expect(session.info.modelFile).toMatch(/model\.safetensors$/);
    await session.dispose();
  });

  for (const pooling of ['mean', 'cls', 'max'] as PoolingMode[]) {
    it(`pytorch_model.bin (bert. prefix, gamma/beta, MLM head) gives the ${pooling} reference within 1e-5`, async () => {
      const dir = folderWithout(modelDir('test-fixtures/tiny-bert'), ['model.safetensors', 'onnx']);
      folders.push(dir);
      const spec = { ...(await loadTestModel(dir)), pooling };
      const session = await backend.createSession(spec, { dtype: 'fp32', device: 'cpu' });
      expect(session.info.modelFile).toMatch(/pytorch_model\.bin$/);
      const reference = loadTinyBertReference();
      const out = l2NormalizeRows(await session.run(batchFromIds(reference.map((r) => r.input_ids))), session.dimension);
      const worst = Math.max(...reference.map((r, i) => maxAbsDiff(row(out, i, session.dimension), r[pooling])));
      expect(worst).toBeLessThanOrEqual(1e-5);
      await session.dispose();
    });
  }

  it('refuses a truncated model.safetensors naming the cut tensor, leaking no tensors', async () => {
    const truncated = join(modelDir('test-fixtures/all-MiniLM-L6-v2-safetensors-truncated'), 'model.safetensors.truncated');
    const dir = folderWithout(modelDir('all-MiniLM-L6-v2'), ['onnx'], { 'model.safetensors': truncated });
    folders.push(dir);
    const before = tf.memory().numTensors;
    const error = await backend.createSession(await loadTestModel(dir), { dtype: 'fp32', device: 'cpu' }).catch((e: unknown) => e);
    expect(isEmbedderError(error, 'WEIGHTS_INVALID'), String(error)).toBe(true);
    expect((error as Error).message).toContain("'embeddings.word_embeddings.weight'");
    expect((error as Error).message).toContain('truncated');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses q8 and cuda with clear errors', async () => {
    const spec = await loadTestModel(modelDir('test-fixtures/tiny-bert'));
    await expect(backend.createSession(spec, { dtype: 'q8', device: 'cpu' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(backend.createSession(spec, { dtype: 'fp32', device: 'cuda' })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
