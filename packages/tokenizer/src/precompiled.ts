import { EmbedderError } from '@embedder-rag/core';

/**
 * SentencePiece's precompiled normalizer (`"type": "Precompiled"` in tokenizer.json, the nmt_nfkc charsmap of T5 /
 * XLM-R models), read from its real table. @huggingface/tokenizers 0.2 approximates it with NFKC plus a fixed list of
 * spaces, which turns U+200D (zero-width joiner) into a space and so splits 👨‍👩‍👧‍👦 into four words; the Rust
 * tokenizers library (and sentence-transformers) keep it as one.
 *
 * Layout of the charsmap: a little-endian u32 byte size of a darts-clone double-array trie, the trie's u32 units,
 * then NUL-terminated UTF-8 replacement strings the trie's values point into.
 */
export class PrecompiledCharsmap {
  readonly #trie: Uint32Array;
  readonly #normalized: Uint8Array;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  readonly #graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

  constructor(base64: string) {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length < 4) throw new EmbedderError('MODEL_INVALID', 'the Precompiled normalizer has no charsmap');
    const trieBytes = bytes.readUInt32LE(0);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > bytes.length) {
      throw new EmbedderError('MODEL_INVALID', `the Precompiled charsmap is malformed (trie of ${trieBytes} bytes in ${bytes.length})`);
    }
    this.#trie = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.#trie.length; i++) this.#trie[i] = bytes.readUInt32LE(4 + i * 4);
    this.#normalized = new Uint8Array(bytes.subarray(4 + trieBytes));
  }

  /** The replacement of the shortest prefix of `key` the table holds (the Rust crate's results[0]), or undefined. */
  #transform(key: Uint8Array): string | undefined {
    const trie = this.#trie;
    let node = 0;
    let unit = trie[node]!;
    node ^= offset(unit);
    for (const byte of key) {
      if (byte === 0) break;
      node ^= byte;
      unit = trie[node]!;
      if (label(unit) !== byte) return undefined;
      node ^= offset(unit);
      if (((unit >>> 8) & 1) === 1) {
        const start = trie[node]! & 0x7fffffff;
        let end = start;
        while (end < this.#normalized.length && this.#normalized[end] !== 0) end++;
        return this.#decoder.decode(this.#normalized.subarray(start, end));
      }
    }
    return undefined;
  }

  /**
   * Normalises like the Rust `Precompiled::normalize_string`: a grapheme under 6 UTF-8 bytes is looked up whole;
   * otherwise (or when it has no entry) each of its characters is.
   */
  normalize(text: string): string {
    let out = '';
    for (const { segment } of this.#graphemes.segment(text)) {
      const bytes = this.#encoder.encode(segment);
      if (bytes.length < 6) {
        const whole = this.#transform(bytes);
        if (whole !== undefined) {
          out += whole;
          continue;
        }
      }
      for (const char of segment) {
        out += this.#transform(this.#encoder.encode(char)) ?? char;
      }
    }
    return out;
  }
}

function offset(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

function label(unit: number): number {
  return unit & ((1 << 31) | 0xff);
}
