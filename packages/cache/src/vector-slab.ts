/** Slots per chunk: 1,024 vectors of 384 floats make a 1.5 MB chunk. */
const SLOTS_PER_CHUNK = 1024;

/**
 * Fixed-width vector slots in a few large Float32Array chunks, reused through a free list. Giving each entry its
 * own Float32Array meant one malloc'd 1.5 KB buffer per set, freed only when the garbage collector got to the
 * evicted entry: a full cache under steady eviction (a long CLI stream) kept the allocator interleaving long-lived and
 * dead buffers. With slots, a full cache allocates nothing per set (the test counts array-buffer bytes), and its
 * memory is fixed once it has filled. Chunks are kept until clear().
 */
export class VectorSlab {
  readonly dimension: number;
  readonly #slotsPerChunk: number;
  readonly #chunks: Float32Array[] = [];
  readonly #free: number[] = [];
  #used = 0;

  /** `capacityHint`: the most vectors the owner will hold; a small cache gets one small chunk. */
  constructor(dimension: number, capacityHint: number) {
    this.dimension = dimension;
    this.#slotsPerChunk = Math.max(1, Math.min(SLOTS_PER_CHUNK, capacityHint));
  }

  /** Copies `vector` into a free slot and returns the slot. */
  store(vector: Float32Array): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#used++;
      if (slot >= this.#chunks.length * this.#slotsPerChunk) this.#chunks.push(new Float32Array(this.#slotsPerChunk * this.dimension));
    }
    this.#view(slot).set(vector);
    return slot;
  }

  /** A copy of the vector in `slot`. */
  read(slot: number): Float32Array {
    return this.#view(slot).slice();
  }

  /** Returns `slot` to the free list; its contents are overwritten by a later store(). */
  release(slot: number): void {
    this.#free.push(slot);
  }

  #view(slot: number): Float32Array {
    const chunk = this.#chunks[Math.floor(slot / this.#slotsPerChunk)]!;
    const start = (slot % this.#slotsPerChunk) * this.dimension;
    return chunk.subarray(start, start + this.dimension);
  }
}
