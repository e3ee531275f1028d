import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { EmbedderError } from '@embedder-rag/core';

/** Everything that changes a vector: two different values of any field never share a cache entry. */
export interface CacheKeyParts {
  /** Model id or folder name. */
  modelId: string;
  /** {@link fingerprintFile} of the weights file, so replaced weights under the same id miss. */
  weightsFingerprint: string;
  dtype: string;
  pooling: string;
  normalize: boolean;
  /** Output dimensions when truncated (Matryoshka); undefined = the model's own. */
  dimensions?: number;
  maxSeqLength: number;
  truncate: boolean;
  truncationDirection: string;
  /** Prompt prepended to the text, if any (undefined and '' are different keys). */
  prompt?: string;
  text: string;
}

/** Bumped when the key layout changes, so old persistent entries can never be mistaken for new ones. */
const KEY_VERSION = 'embedder-cache-key/1';

/**
 * The cache key of one text under one model and set of options: the sha256 (64 hex characters) of a canonical
 * encoding. The encoding is a JSON array in a fixed field order, so field boundaries are unambiguous (strings are
 * quoted and escaped; `undefined` becomes null, distinct from '' and 0). About 2 µs for a short text.
 */
export function cacheKey(parts: CacheKeyParts): string {
  if (typeof parts !== 'object' || parts === null || typeof parts.text !== 'string' || typeof parts.modelId !== 'string') {
    throw new EmbedderError('INVALID_INPUT', 'cacheKey needs at least a string modelId and a string text');
  }
  const canonical = JSON.stringify([
    KEY_VERSION,
    parts.modelId,
    parts.weightsFingerprint,
    parts.dtype,
    parts.pooling,
    parts.normalize,
    parts.dimensions ?? null,
    parts.maxSeqLength,
    parts.truncate,
    parts.truncationDirection,
    parts.prompt ?? null,
    parts.text,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

const EDGE_BYTES = 1024 * 1024;

/**
 * A fast fingerprint of a (large) file, e.g. model weights: sha256 of its size, its mtime and its first and last
 * MiB (the whole file when it is at most 2 MiB). Reads at most 2 MiB whatever the size, so it costs milliseconds on
 * a 90 MB model. It changes when the file is replaced, rewritten or touched; an edit in the middle of a big file
 * that keeps size and mtime is not seen (weights files are replaced, not patched in place). 64 hex characters.
 * `includeMtime: false` leaves the mtime out (a cache shared between machines).
 */
export async function fingerprintFile(path: string, options: { includeMtime?: boolean } = {}): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new EmbedderError('INVALID_INPUT', `${path} is not a file, so it cannot be fingerprinted`);
    // Without the mtime, copies of one file on different machines (each downloaded at its own time) agree: what a
    // cache shared between machines needs. A replacement keeping size and first and last MiB is then not seen.
    const hash = createHash('sha256').update(options.includeMtime === false ? `${info.size}:` : `${info.size}:${info.mtimeMs}:`);
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(Math.min(info.size, EDGE_BYTES));
      await handle.read(head, 0, head.length, 0);
      hash.update(head);
      if (info.size > EDGE_BYTES) {
        const tailStart = Math.max(EDGE_BYTES, info.size - EDGE_BYTES);
        const tail = Buffer.alloc(info.size - tailStart);
        await handle.read(tail, 0, tail.length, tailStart);
        hash.update(tail);
      }
    } finally {
      await handle.close();
    }
    return hash.digest('hex');
  } catch (error) {
    if (error instanceof EmbedderError) throw error;
    throw new EmbedderError('CACHE_FAILED', `cannot fingerprint ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
}
