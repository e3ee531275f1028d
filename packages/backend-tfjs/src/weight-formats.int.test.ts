import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isEmbedderError, l2NormalizeRows, type Backend } from '@embedder-rag/core';
import { cosine, loadTinyBertReference, maxAbsDiff, modelDir, TINY_BERT_POOLINGS } from '@embedder-rag/test-fixtures';
import { openWeights } from '@embedder-rag/weights';
import { batchFromIds, loadTestModel, row } from '@embedder-rag/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsBackend } from './backend';

/** A copy of a model folder (symlinks) without some files, e.g. without model.safetensors. */
function folderWithout(source: string, leaveOut: readonly string[], extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-tfjs-'));
  for (const name of readdirSync(source)) if (!leaveOut.includes(name)) symlinkSync(join(source, name), join(dir, name));
  for (const [name, target] of Object.entries(extra)) symlinkSync(target, join(dir, name));
  return dir;
}

/** float32 → IEEE half bits, round to nearest even (enough for weights of magnitude 1e-5…10). */
function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent <= 0) return sign | Math.round(Math.abs(value) / 2 ** -24);
  if (exponent >= 0x1f) return sign | 0x7c00;
  let half = sign | (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

/** Rewrites a safetensors file with every F32 tensor stored as F16 or BF16. */
async function reducedPrecisionCopy(source: string, target: string, dtype: 'F16' | 'BF16'): Promise<void> {
  const weights = await openWeights(source);
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const name of weights.names()) {
    const info = weights.info(name)!;
    if (info.dtype !== 'F32') continue;
    const values = weights.float32(name);
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = dtype === 'F16' ? toHalfBits(values[i]!) : new Uint32Array(Float32Array.of(values[i]!).buffer)[0]! >>> 16;
    header[name] = { dtype, shape: info.shape, data_offsets: [offset, offset + out.byteLength] };
    parts.push(new Uint8Array(out.buffer));
    offset += out.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  writeFileSync(target, Buffer.concat([length, json, ...parts]));
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

  for (const pooling of TINY_BERT_POOLINGS) {
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

  for (const dtype of ['F16', 'BF16'] as const) {
    it(`runs ${dtype} safetensors (converted to float32 at load) close to the fp32 reference`, async () => {
      const tiny = modelDir('test-fixtures/tiny-bert');
      const dir = folderWithout(tiny, ['model.safetensors', 'pytorch_model.bin', 'onnx']);
      folders.push(dir);
      await reducedPrecisionCopy(join(tiny, 'model.safetensors'), join(dir, 'model.safetensors'), dtype);
      const session = await backend.createSession(await loadTestModel(dir), { dtype: 'fp32', device: 'cpu' });
      const reference = loadTinyBertReference();
      const out = l2NormalizeRows(await session.run(batchFromIds(reference.map((r) => r.input_ids))), session.dimension);
      const worst = Math.min(...reference.map((r, i) => cosine(row(out, i, session.dimension), r.mean)));
      // Rounding the weights to 11 (F16) or 8 (BF16) significant bits moves the vectors a little, not more.
      expect(worst).toBeGreaterThan(dtype === 'F16' ? 0.9999 : 0.999);
      expect(worst).toBeLessThan(1 - 1e-9);
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
