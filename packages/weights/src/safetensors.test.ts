import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEmbedderError } from '@embedder-rag/core';
import { modelDir } from '@embedder-rag/test-fixtures';
import { describe, expect, it } from 'vitest';
import { openWeights, readSafetensors } from './index';

/** Builds a safetensors file the way the format specifies it (8-byte LE length, JSON header, data). */
function safetensorsBytes(tensors: Record<string, { dtype: string; shape: number[]; data: Uint8Array }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const tensor of Object.values(tensors)) {
    out.set(tensor.data, at);
    at += tensor.data.byteLength;
  }
  return out;
}

function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  try {
    fn();
  } catch (error) {
    expect(isEmbedderError(error, code as never), String(error)).toBe(true);
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
    return;
  }
  throw new Error('expected an error');
}

describe('readSafetensors', () => {
  it('reads the tiny-bert fixture: 39 tensors, F32 as zero-copy views', async () => {
    const weights = await openWeights(join(modelDir('test-fixtures/tiny-bert'), 'model.safetensors'));
    expect(weights.format).toBe('safetensors');
    expect(weights.names()).toHaveLength(39);
    expect(weights.info('embeddings.word_embeddings.weight')).toEqual({
      name: 'embeddings.word_embeddings.weight',
      dtype: 'F32',
      shape: [30522, 16],
    });
    const table = weights.float32('embeddings.word_embeddings.weight', [30522, 16]);
    const again = weights.float32('embeddings.word_embeddings.weight');
    expect(table.length).toBe(30522 * 16);
    expect(table.buffer).toBe(again.buffer);
    expect(Number.isFinite(table[12345])).toBe(true);
  });

  it('reads the complete tensors of the truncated all-MiniLM-L6-v2 file and names the one that is cut', () => {
    const file = join(modelDir('test-fixtures/all-MiniLM-L6-v2-safetensors-truncated'), 'model.safetensors.truncated');
    const weights = readSafetensors(readFileSync(file), file);
    expect(weights.names()).toHaveLength(104);
    const positions = weights.float32('embeddings.position_embeddings.weight', [512, 384]);
    expect(positions.length).toBe(512 * 384);
    expectError(() => weights.float32('embeddings.word_embeddings.weight'), 'WEIGHTS_INVALID', "'embeddings.word_embeddings.weight'", 'truncated');
    expectError(() => weights.float32('encoder.layer.5.output.dense.weight'), 'WEIGHTS_INVALID', 'encoder.layer.5.output.dense.weight', 'truncated');
  });

  it('names the tensor on a wrong shape, a missing tensor and a non-float dtype', () => {
    const file = join(modelDir('test-fixtures/all-MiniLM-L6-v2-safetensors-truncated'), 'model.safetensors.truncated');
    const weights = readSafetensors(readFileSync(file), file);
    expectError(() => weights.float32('embeddings.LayerNorm.weight', [768]), 'WEIGHTS_INVALID', "'embeddings.LayerNorm.weight'", '[384]', '[768]');
    expectError(() => weights.float32('no.such.tensor'), 'WEIGHTS_INVALID', "'no.such.tensor'", 'missing');
    expectError(() => weights.float32('embeddings.position_ids'), 'WEIGHTS_INVALID', "'embeddings.position_ids'", 'I64');
  });

  it('converts F16 and BF16 to float32', () => {
    // 1, -2, 0.5, 65504 (the largest half), and a subnormal half (2^-24).
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001]).buffer);
    // bfloat16 of 1, -2, 3.140625.
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc000, 0x4049]).buffer);
    const bytes = safetensorsBytes({
      a: { dtype: 'F16', shape: [5], data: half },
      b: { dtype: 'BF16', shape: [3], data: bf16 },
    });
    const weights = readSafetensors(bytes, 'mem.safetensors');
    expect([...weights.float32('a')]).toEqual([1, -2, 0.5, 65504, 2 ** -24]);
    expect([...weights.float32('b')]).toEqual([1, -2, 3.140625]);
  });

  it('copies F32 data that is not 4-byte aligned', () => {
    const values = new Float32Array([1.5, -2.25, 3]);
    const bytes = safetensorsBytes({ pad: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) }, x: { dtype: 'F32', shape: [3], data: new Uint8Array(values.buffer) } });
    expect([...readSafetensors(bytes, 'mem.safetensors').float32('x')]).toEqual([1.5, -2.25, 3]);
  });

  it('refuses corrupt headers with a clear error', () => {
    expectError(() => readSafetensors(new Uint8Array(4), 'short.safetensors'), 'WEIGHTS_INVALID', 'short.safetensors', 'truncated');
    const good = safetensorsBytes({ x: { dtype: 'F32', shape: [2], data: new Uint8Array(8) } });
    expectError(() => readSafetensors(good.subarray(0, 20), 'cut.safetensors'), 'WEIGHTS_INVALID', 'header');
    const notJson = good.slice();
    notJson[8] = 0x7b + 1;
    expectError(() => readSafetensors(notJson, 'bad.safetensors'), 'WEIGHTS_INVALID', 'not valid JSON');
    const wrongSize = safetensorsBytes({ x: { dtype: 'F32', shape: [3], data: new Uint8Array(8) } });
    expectError(() => readSafetensors(wrongSize, 'size.safetensors'), 'WEIGHTS_INVALID', "'x'", '12 B');
    const badDtype = safetensorsBytes({ x: { dtype: 'F8_E4M3X', shape: [1], data: new Uint8Array(1) } });
    expectError(() => readSafetensors(badDtype, 'dtype.safetensors'), 'WEIGHTS_INVALID', "'x'", 'F8_E4M3X');
  });
});
