/** Powers of ten that doubles hold exactly (10^0 … 10^22). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The double JSON.stringify prints as the shortest decimal that reads back (JSON.parse, then Math.fround) to the
 * float32 `value`; TEI prints vectors the same way. Array.from(float32) would print each value's exact double
 * (about 19 characters, e.g. 0.10000000149011612 for 0.1f): twice the bytes and the formatting time.
 *
 * The candidate with `digits` significant digits is m / 10^k, which division rounds to the double nearest that
 * decimal, the very double a JSON parser makes of it; it is kept only when Math.fround gives `value` back, so a
 * candidate that a rounding slip made wrong is never used. Nine digits always suffice for a float32; a value no
 * candidate fits (outside 10^±22 scales: subnormals, huge values) is returned as is, which is exact too.
 */
export function shortestFloat32(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  // Most float32 values need 8 digits: try 8, then fewer while they still read back, else 9.
  const eight = candidate(value, exponent, 8);
  if (Math.fround(eight) !== value) {
    const nine = candidate(value, exponent, 9);
    return Math.fround(nine) === value ? nine : value;
  }
  let shortest = eight;
  for (let digits = 7; digits >= 1; digits--) {
    const shorter = candidate(value, exponent, digits);
    if (Math.fround(shorter) !== value) break;
    shortest = shorter;
  }
  return shortest;
}

/** The double nearest to `value` rounded to `digits` significant digits (NaN when the scale is not exact). */
function candidate(value: number, exponent: number, digits: number): number {
  const k = digits - 1 - exponent;
  if (k >= 0) {
    if (k > 22) return Number.NaN;
    const scale = EXACT_POWERS_OF_TEN[k]!;
    return Math.round(value * scale) / scale;
  }
  if (-k > 22) return Number.NaN;
  const scale = EXACT_POWERS_OF_TEN[-k]!;
  return Math.round(value / scale) * scale;
}

/** A vector as JSON numbers in their shortest float32 form (see {@link shortestFloat32}). */
export function float32JsonNumbers(vector: Float32Array): number[] {
  const numbers = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) numbers[i] = shortestFloat32(vector[i]!);
  return numbers;
}
