import { describe, expect, it } from 'vitest';
import { float32JsonNumbers, shortestFloat32 } from './float32-json';

/** What a client does with the JSON: parse to doubles, then store them as float32. */
const readBack = (json: string): Float32Array => Float32Array.from(JSON.parse(json) as number[]);
const bitsOf = (vector: Float32Array): Uint32Array => new Uint32Array(vector.buffer, vector.byteOffset, vector.length);

/** The fewest significant digits (toPrecision) whose decimal reads back to `value`: the reference for "shortest". */
function shortestDigits(value: number): number {
  for (let digits = 1; digits <= 9; digits++) if (Math.fround(Number(value.toPrecision(digits))) === value) return digits;
  return 17;
}
const digitsOf = (text: string): number => text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length;

describe('shortestFloat32', () => {
  it('reads back bit for bit over float32 values of every exponent (200,000 random bit patterns)', () => {
    const bits = new Uint32Array(200_000);
    let state = 12345;
    for (let i = 0; i < bits.length; i++) {
      // xorshift32: every exponent, sign and mantissa, subnormals included.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      bits[i] = state >>> 0;
    }
    const values = new Float32Array(bits.buffer);
    const finite = values.filter((value) => Number.isFinite(value) && !Object.is(value, -0));
    expect(bitsOf(readBack(JSON.stringify(float32JsonNumbers(finite))))).toEqual(bitsOf(finite));
  });

  it('prints the fewest digits that read back (as TEI), never more than 9', () => {
    let state = 99;
    let longer = 0;
    for (let i = 0; i < 50_000; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      // Embedding-like magnitudes: 1e-6 .. 10, both signs.
      const value = Math.fround((state / 2 ** 32 - 0.5) * 10 ** ((state % 7) - 5));
      if (value === 0) continue;
      const printed = JSON.stringify(shortestFloat32(value));
      expect(Math.fround(Number(printed))).toBe(value);
      expect(digitsOf(printed)).toBeLessThanOrEqual(9);
      if (digitsOf(printed) > shortestDigits(value)) longer++;
    }
    expect(longer).toBe(0);
  });

  it('keeps edge values exact', () => {
    const edges = Float32Array.from([0.1, -0.25, 1e-8, 1, -1, 3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 123456789, 0]);
    expect(bitsOf(readBack(JSON.stringify(float32JsonNumbers(edges))))).toEqual(bitsOf(edges));
    expect(JSON.stringify(float32JsonNumbers(Float32Array.from([0.1, -0.25, 0.5])))).toBe('[0.1,-0.25,0.5]');
    expect(JSON.stringify(Array.from(Float32Array.from([0.1])))).toBe('[0.10000000149011612]');
  });
});
