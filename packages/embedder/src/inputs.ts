import { EmbedderError, type Chunk } from '@embedder-rag/core';
import type { EmbedOptions } from './types';

/** Checks that `texts` is a non-empty array of non-empty strings, naming the first bad entry. */
export function validateTexts(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts)) {
    throw new EmbedderError('INVALID_INPUT', `texts must be an array of strings, got ${describe(texts)}`);
  }
  if (texts.length === 0) throw new EmbedderError('INVALID_INPUT', 'texts must not be empty: pass at least one text');
  texts.forEach((text, index) => validateText(text, index));
}

/** Checks one text; `index` names it in the message. */
export function validateText(text: unknown, index: number): asserts text is string {
  if (typeof text !== 'string') {
    throw new EmbedderError('INVALID_INPUT', `text ${index} must be a string, got ${describe(text)}`, { details: { index } });
  }
  if (text.length === 0) {
    throw new EmbedderError('INVALID_INPUT', `text ${index} is empty: an empty string has no embedding`, { details: { index } });
  }
}

/** Checks per-call options against the model's dimension. */
export function validateOptions(options: EmbedOptions, dimension: number): void {
  const { dimensions, truncationDirection } = options;
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > dimension)) {
    throw new EmbedderError('INVALID_INPUT', `dimensions must be a whole number from 1 to ${dimension} (the model's dimension), got ${String(dimensions)}`, {
      details: { field: 'dimensions', min: 1, max: dimension },
    });
  }
  if (truncationDirection !== undefined && truncationDirection !== 'right' && truncationDirection !== 'left') {
    throw new EmbedderError('INVALID_INPUT', `truncationDirection must be 'right' or 'left', got ${String(truncationDirection)}`);
  }
}

/** Checks chunks have string content and an id. */
export function validateChunks(chunks: unknown): asserts chunks is Chunk[] {
  if (!Array.isArray(chunks)) throw new EmbedderError('INVALID_INPUT', `chunks must be an array, got ${describe(chunks)}`);
  if (chunks.length === 0) throw new EmbedderError('INVALID_INPUT', 'chunks must not be empty');
  chunks.forEach((chunk: unknown, index) => {
    if (typeof chunk !== 'object' || chunk === null) {
      throw new EmbedderError('INVALID_INPUT', `chunk ${index} must be an object, got ${describe(chunk)}`);
    }
    validateText((chunk as Chunk).content, index);
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
