/**
 * Seeded randomness for training: the shuffle of each epoch and the seed of each dropout mask are pure functions
 * of (seed, epoch) and (seed, step, call), so a run resumed from a checkpoint draws exactly what the uninterrupted
 * run would have drawn.
 */
import { mulberry32 } from '@embedder-rag/core';

/** A 32-bit mix of integers (splitmix32-style finaliser over each part). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Parts above 2^32 (not used for seeds or step counts in practice) still change the result.
    h ^= Math.floor(part / 0x1_0000_0000);
  }
  return h >>> 0;
}

/** The order in which epoch `epoch` visits `count` examples (Fisher–Yates with a generator seeded by seed and epoch). */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const random = mulberry32(mixSeed(seed, epoch, 0x5eed));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}
