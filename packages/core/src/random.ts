/**
 * mulberry32: a small, fast, seeded 32-bit generator, uniform in [0, 1). Shared by everything that must draw the same
 * numbers from the same seed (k-means seeding, training shuffles and dropout masks); not for anything secret.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
