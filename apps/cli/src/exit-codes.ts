import { isEmbedderError, type ErrorCode } from '@embedder-rag/core';

/** Exit status of a run that finished. */
export const EXIT_OK = 0;
/** An unexpected failure (a bug, or an error that is not an EmbedderError). */
export const EXIT_INTERNAL = 1;
/** Bad command-line usage: unknown command or flag, missing or malformed argument. */
export const EXIT_USAGE = 2;

/**
 * The one error-code → exit-code table of the CLI. Codes group by what the user has to fix: the input (3), the
 * model files (4, 5), the runtime (6, 7), the cache (8), the load (9), the queue of the distributed mode (10, 11), the output (12). Never renumber: scripts test these.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  INVALID_CONFIG: EXIT_USAGE,
  INVALID_INPUT: 3,
  INPUT_TOO_LONG: 3,
  DIMENSION_MISMATCH: 3,
  MODEL_NOT_FOUND: 4,
  DOWNLOAD_FAILED: 4,
  MODEL_INVALID: 5,
  TOKENIZER_FAILED: 5,
  WEIGHTS_INVALID: 5,
  BACKEND_UNAVAILABLE: 6,
  UNSUPPORTED: 6,
  INFERENCE_FAILED: 7,
  CACHE_FAILED: 8,
  CACHE_CORRUPT: 8,
  OVERLOADED: 9,
  TIMEOUT: 9,
  DISPOSED: EXIT_INTERNAL,
  QUEUE_UNAVAILABLE: 10,
  MODEL_MISMATCH: 11,
  OUTPUT_FAILED: 12,
};

/** The exit code for anything thrown by a command: the table for an EmbedderError, else {@link EXIT_INTERNAL}. */
export function exitCodeFor(error: unknown): number {
  if (isEmbedderError(error)) return EXIT_CODES[error.code] ?? EXIT_INTERNAL;
  return EXIT_INTERNAL;
}
