import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EmbedderError, type TokenizedBatch } from '@embedder-rag/core';
import { alignOffsets, type TokenSpan } from './offsets';
import { PrecompiledCharsmap } from './precompiled';

/** Options of {@link loadTokenizer}. */
export interface TokenizerOptions {
  /** Most tokens per text, specials included (the model's max_seq_length: 256 for all-MiniLM-L6-v2). */
  maxSeqLength: number;
}

/** One text, encoded and truncated, before padding. */
export interface TextEncoding {
  /** Token ids with the special tokens ([CLS] … [SEP]). */
  ids: Int32Array;
  /** Tokens the text had (specials included) before truncation. */
  fullLength: number;
  /** Whether the text was cut to maxSeqLength. */
  truncated: boolean;
  /**
   * Leading tokens pooling leaves out (a prompt's, for models whose Pooling says include_prompt false); 0 or absent:
   * every token counts.
   */
  poolingStart?: number;
}

/** Which end of a text to cut. */
export type TruncationDirection = 'right' | 'left';

/** A batch ready for a backend, plus per-text facts. */
export interface EncodedBatch {
  batch: TokenizedBatch;
  /** Tokens per text after truncation, specials included. */
  tokenCounts: number[];
  truncated: boolean[];
}

/**
 * A model's tokenizer, truncating at the model's max_seq_length (tokenizer.json's own truncation and its fixed
 * padding to 128 are ignored: sentence-transformers truncates at max_seq_length and pads to the longest text).
 */
export class TextTokenizer {
  readonly maxSeqLength: number;
  readonly #tokenizer: Tokenizer;
  /** Special ids the post-processor puts before and after a single text ([CLS] / [SEP] for BERT). */
  readonly #prefix: number[];
  readonly #suffix: number[];
  readonly #padId: number;

  constructor(tokenizer: Tokenizer, options: TokenizerOptions, padId: number) {
    this.#tokenizer = tokenizer;
    this.maxSeqLength = options.maxSeqLength;
    this.#padId = padId;
    [this.#prefix, this.#suffix] = specialAffixes(tokenizer);
    if (this.maxSeqLength <= this.#prefix.length + this.#suffix.length) {
      throw new EmbedderError('INVALID_CONFIG', `maxSeqLength ${this.maxSeqLength} leaves no room for text tokens`);
    }
  }

  /** Tokens the special tokens take in every text. */
  get specialTokenCount(): number {
    return this.#prefix.length + this.#suffix.length;
  }

  /** The id padding uses (tokenizer.json's padding, else tokenizer_config.json's pad_token, else 0). */
  get padId(): number {
    return this.#padId;
  }

  /**
   * Tokens a prompt takes at the start of `prompt + text`, counted as sentence-transformers counts them for
   * include_prompt false: the prompt encoded with its specials, minus the closing one (so a leading [CLS] / <s>
   * counts as prompt).
   */
  promptLength(prompt: string): number {
    if (prompt === '') return 0;
    return this.encode(prompt).ids.length - 1;
  }

  /**
   * Encodes one text: word pieces cut to maxSeqLength − specials from the chosen end, then the specials added
   * (what the Rust tokenizers library does with truncation on).
   */
  encode(text: string, direction: TruncationDirection = 'right'): TextEncoding {
    if (typeof text !== 'string') {
      throw new EmbedderError('INVALID_INPUT', `expected a string to tokenize, got ${text === null ? 'null' : typeof text}`);
    }
    let pieces: number[];
    try {
      pieces = this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
    } catch (error) {
      throw new EmbedderError('TOKENIZER_FAILED', `tokenizer failed on a text of ${text.length} characters`, { cause: error });
    }
    const room = this.maxSeqLength - this.specialTokenCount;
    const kept = pieces.length <= room ? pieces : direction === 'right' ? pieces.slice(0, room) : pieces.slice(pieces.length - room);
    const ids = new Int32Array(kept.length + this.specialTokenCount);
    ids.set(this.#prefix, 0);
    ids.set(kept, this.#prefix.length);
    ids.set(this.#suffix, this.#prefix.length + kept.length);
    return { ids, fullLength: pieces.length + this.specialTokenCount, truncated: pieces.length > room };
  }

  /**
   * Pads encodings to the longest of them into one backend batch (row-major int64, mask 1 for real tokens,
   * token type ids 0 for single texts).
   */
  collate(encodings: readonly TextEncoding[]): TokenizedBatch {
    const batchSize = encodings.length;
    if (batchSize === 0) throw new EmbedderError('INVALID_INPUT', 'cannot build a batch of no texts');
    let sequenceLength = 0;
    for (const encoding of encodings) sequenceLength = Math.max(sequenceLength, encoding.ids.length);
    const inputIds = new BigInt64Array(batchSize * sequenceLength);
    const attentionMask = new BigInt64Array(batchSize * sequenceLength);
    const pad = BigInt(this.#padId);
    for (let row = 0; row < batchSize; row++) {
      const ids = encodings[row]!.ids;
      const offset = row * sequenceLength;
      for (let t = 0; t < sequenceLength; t++) {
        if (t < ids.length) {
          inputIds[offset + t] = BigInt(ids[t]!);
          attentionMask[offset + t] = 1n;
        } else {
          inputIds[offset + t] = pad;
        }
      }
    }
    const batch: TokenizedBatch = { inputIds, attentionMask, tokenTypeIds: new BigInt64Array(batchSize * sequenceLength), batchSize, sequenceLength };
    if (encodings.some((encoding) => (encoding.poolingStart ?? 0) > 0)) {
      // sentence-transformers zeroes the prompt's positions in the mask pooling reads; the encoder still sees them.
      const poolingMask = attentionMask.slice();
      encodings.forEach((encoding, row) => poolingMask.fill(0n, row * sequenceLength, row * sequenceLength + Math.min(encoding.poolingStart ?? 0, sequenceLength)));
      batch.poolingMask = poolingMask;
    }
    return batch;
  }

  /** Encodes and pads texts into one batch. */
  encodeBatch(texts: readonly string[], direction: TruncationDirection = 'right'): EncodedBatch {
    const encodings = texts.map((text) => this.encode(text, direction));
    return {
      batch: this.collate(encodings),
      tokenCounts: encodings.map((encoding) => encoding.ids.length),
      truncated: encodings.map((encoding) => encoding.truncated),
    };
  }

  /** Tokens with their text and character offsets into `text` (for the server's /tokenize). */
  tokenize(text: string, options: { addSpecialTokens?: boolean; direction?: TruncationDirection } = {}): TokenSpan[] {
    const encoding = this.encode(text, options.direction);
    const ids = Array.from(encoding.ids);
    const withSpecials = options.addSpecialTokens ?? true;
    const inner = ids.slice(this.#prefix.length, ids.length - this.#suffix.length);
    const tokens = inner.map((id) => this.#tokenizer.id_to_token(id) ?? '');
    const spans = alignOffsets(text, tokens, inner);
    if (!withSpecials) return spans;
    const special = (id: number, at: number): TokenSpan => ({ id, text: this.#tokenizer.id_to_token(id) ?? '', special: true, start: at, stop: at });
    return [...this.#prefix.map((id) => special(id, 0)), ...spans, ...this.#suffix.map((id) => special(id, text.length))];
  }

  /** Turns ids back into text. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || this.#tokenizer.id_to_token(id) === undefined) {
        throw new EmbedderError('INVALID_INPUT', `token id ${id} is not in the vocabulary`);
      }
    }
    return this.#tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? true });
  }

  /** Size of the vocabulary. */
  get vocabSize(): number {
    return this.#tokenizer.get_vocab(true).size;
  }
}

/** Finds the specials the post-processor adds around a single text by encoding a probe with and without them. */
function specialAffixes(tokenizer: Tokenizer): [number[], number[]] {
  const probe = 'a';
  const plain = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  const full = tokenizer.encode(probe, { add_special_tokens: true }).ids;
  for (let start = 0; start + plain.length <= full.length; start++) {
    if (plain.every((id, i) => full[start + i] === id)) {
      return [full.slice(0, start), full.slice(start + plain.length)];
    }
  }
  return [[], []];
}

async function readJson(file: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new EmbedderError('MODEL_INVALID', missing ? `${file} is missing: the model folder needs a tokenizer.json` : `cannot read ${file}`, {
      cause: error,
      details: { file },
    });
  }
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch (error) {
    throw new EmbedderError('MODEL_INVALID', `${file} is not valid JSON`, { cause: error, details: { file } });
  }
}

/** Loads tokenizer.json (+ tokenizer_config.json when present) from a model folder. */
export async function loadTokenizer(dir: string, options: TokenizerOptions): Promise<TextTokenizer> {
  const tokenizerJson = await readJson(join(dir, 'tokenizer.json'), true);
  const tokenizerConfig = (await readJson(join(dir, 'tokenizer_config.json'), false)) ?? {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson!, tokenizerConfig);
  } catch (error) {
    throw new EmbedderError('MODEL_INVALID', `${join(dir, 'tokenizer.json')} could not be loaded as a tokenizer`, { cause: error });
  }
  usePrecompiledCharsmaps(tokenizer, tokenizerJson!.normalizer);
  const padding = tokenizerJson!.padding as { pad_id?: number } | null | undefined;
  const padToken = typeof tokenizerConfig.pad_token === 'string' ? tokenizer.token_to_id(tokenizerConfig.pad_token) : undefined;
  return new TextTokenizer(tokenizer, options, padding?.pad_id ?? padToken ?? 0);
}

type NormalizerConfig = { type?: string; precompiled_charsmap?: string; normalizers?: NormalizerConfig[] } | null | undefined;
type NormalizerInstance = { normalize: (text: string) => string; normalizers?: NormalizerInstance[] };

/**
 * Swaps @huggingface/tokenizers' approximate Precompiled normalizer (top level or inside a Sequence) for
 * {@link PrecompiledCharsmap}, which reads the charsmap itself. Reaches into the library's normalizer objects
 * (`normalizer`, `normalizers`, `normalize`), which 0.2.0 (pinned) builds one per config entry, in order.
 */
function usePrecompiledCharsmaps(tokenizer: Tokenizer, config: unknown): void {
  const patch = (entry: NormalizerConfig, instance: NormalizerInstance | undefined): void => {
    if (!entry || !instance) return;
    if (entry.type === 'Precompiled' && typeof entry.precompiled_charsmap === 'string' && entry.precompiled_charsmap !== '') {
      const charsmap = new PrecompiledCharsmap(entry.precompiled_charsmap);
      instance.normalize = (text) => charsmap.normalize(text);
    } else if (entry.type === 'Sequence' && entry.normalizers && instance.normalizers) {
      entry.normalizers.forEach((inner, index) => patch(inner, instance.normalizers![index]));
    }
  };
  patch(config as NormalizerConfig, (tokenizer as unknown as { normalizer?: NormalizerInstance }).normalizer);
}
