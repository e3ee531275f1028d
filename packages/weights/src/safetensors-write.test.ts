import { describe, expect, it } from 'vitest';
import { readSafetensors } from './safetensors';
import { float32Tensor, writeSafetensors } from './safetensors-write';

describe('writeSafetensors', () => {
  it('round-trips through readSafetensors with an 8-byte aligned data section', () => {
    const a = Float32Array.from([1.5, -2, 3.25, 0, 7, -0.125]);
    const ids = new BigInt64Array([0n, 1n, 2n]);
    const bytes = writeSafetensors([
      float32Tensor('a.weight', [2, 3], a),
      { name: 'position_ids', dtype: 'I64', shape: [1, 3], bytes: new Uint8Array(ids.buffer) },
    ]);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const set = readSafetensors(bytes, 'mem.safetensors');
    expect(set.names()).toEqual(['a.weight', 'position_ids']);
    expect(Array.from(set.float32('a.weight', [2, 3]))).toEqual(Array.from(a));
    expect(set.info('position_ids')).toEqual({ name: 'position_ids', dtype: 'I64', shape: [1, 3] });
  });

  it('refuses a tensor whose bytes do not match its shape', () => {
    expect(() => writeSafetensors([float32Tensor('x', [4], new Float32Array(3))])).toThrow(/needs 16 B, got 12/);
  });
});
