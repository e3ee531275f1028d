/** The vector the crash tests write under key `k${i}`: deterministic, so a reader can check any entry. */
export function vectorFor(i: number, dimension = 384): Float32Array {
  const v = new Float32Array(dimension);
  for (let j = 0; j < dimension; j++) v[j] = Math.sin(i * 0.37 + j * 1.3) * (1 + (i % 7));
  return v;
}

/** True when two vectors have the same bytes. */
export function sameBytes(a: Float32Array | undefined, b: Float32Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
