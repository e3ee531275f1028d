import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEmbedderError } from '@embedder-rag/core';
import { modelDir } from '@embedder-rag/test-fixtures';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { openModelWeights, openWeights, readParameter, readTorchBin } from './index';

function expectRefused(fn: () => unknown, ...fragments: string[]): void {
  try {
    fn();
  } catch (error) {
    expect(isEmbedderError(error, 'WEIGHTS_INVALID'), String(error)).toBe(true);
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
    return;
  }
  throw new Error('expected an error');
}

/** A zip checkpoint whose data.pkl is `pickle` (protocol 2 bytes). */
function checkpointWith(pickle: number[]): Uint8Array {
  return zipSync({ 'archive/data.pkl': new Uint8Array(pickle), 'archive/byteorder': new TextEncoder().encode('little') }, { level: 0 });
}
const ascii = (text: string): number[] => [...new TextEncoder().encode(text)];

describe('readTorchBin', () => {
  it('reads the tiny-bert pytorch_model.bin: bert.-prefixed names, gamma/beta, MLM head tensors present but unused', async () => {
    const dir = modelDir('test-fixtures/tiny-bert');
    const bin = await openWeights(join(dir, 'pytorch_model.bin'));
    expect(bin.format).toBe('pytorch');
    expect(bin.names()).toHaveLength(41);
    expect(bin.has('bert.embeddings.LayerNorm.gamma')).toBe(true);
    expect(bin.names().some((name) => name.startsWith('cls.predictions.'))).toBe(true);

    const safetensors = await openWeights(join(dir, 'model.safetensors'));
    // Every tensor of the encoder, under its canonical name, is bit-identical in both files.
    const canonical = safetensors.names().filter((name) => !name.startsWith('pooler.') && name !== 'embeddings.position_ids');
    expect(canonical.length).toBeGreaterThan(30);
    for (const name of canonical) {
      const shape = safetensors.info(name)!.shape;
      expect([...readParameter(bin, name, shape)], name).toEqual([...safetensors.float32(name, shape)]);
    }
  });

  it('prefers model.safetensors in a model folder', async () => {
    const weights = await openModelWeights(modelDir('test-fixtures/tiny-bert'));
    expect(weights.format).toBe('safetensors');
    const bin = await openModelWeights(modelDir('test-fixtures/tiny-bert'), ['missing.safetensors', 'pytorch_model.bin']);
    expect(bin.format).toBe('pytorch');
    await expect(openModelWeights(modelDir('test-fixtures/tiny-bert'), ['nope.bin'])).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('refuses a pickle that reaches for a class outside the allow-list (no code execution)', () => {
    // PROTO 2, GLOBAL os.system, SHORT_BINUNICODE 'echo hi', TUPLE1, REDUCE, STOP
    const pickle = [0x80, 2, 0x63, ...ascii('os\nsystem\n'), 0x8c, 7, ...ascii('echo hi'), 0x85, 0x52, 0x2e];
    expectRefused(() => readTorchBin(checkpointWith(pickle), 'evil.bin'), 'evil.bin', 'os.system');
    const builtins = [0x80, 2, 0x63, ...ascii('builtins\neval\n'), 0x2e];
    expectRefused(() => readTorchBin(checkpointWith(builtins), 'evil2.bin'), 'builtins.eval');
  });

  it('refuses opcodes a state dict never uses', () => {
    // PROTO 2, INST (i) — the old way of instantiating classes.
    const pickle = [0x80, 2, 0x28, 0x69, ...ascii('os\nsystem\n'), 0x2e];
    expectRefused(() => readTorchBin(checkpointWith(pickle), 'inst.bin'), 'opcode 0x69');
  });

  it('refuses a truncated or non-zip file, and the legacy format, with clear errors', () => {
    const real = readFileSync(join(modelDir('test-fixtures/tiny-bert'), 'pytorch_model.bin'));
    expectRefused(() => readTorchBin(real.subarray(0, 100_000), 'cut.bin'), 'cut.bin', 'truncated or corrupt');
    expectRefused(() => readTorchBin(new Uint8Array([0x80, 2, 0x8a, 0x0a]), 'legacy.bin'), 'legacy');
  });
});
