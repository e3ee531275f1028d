/**
 * Stable error codes. Apps map them to HTTP statuses and exit codes; never rename one.
 */
export const ErrorCode = {
  /** The caller passed something that cannot be embedded (empty text, wrong type, empty list). */
  INVALID_INPUT: 'INVALID_INPUT',
  /** A text is longer than the model accepts and truncation is off. */
  INPUT_TOO_LONG: 'INPUT_TOO_LONG',
  /** A configuration value is out of range or of the wrong type. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** No model folder could be found or downloaded for a name or path. */
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  /** A model folder exists but a file in it is missing, truncated or corrupt. */
  MODEL_INVALID: 'MODEL_INVALID',
  /** Downloading a model file failed (HTTP error, size or checksum mismatch). */
  DOWNLOAD_FAILED: 'DOWNLOAD_FAILED',
  /** The tokenizer could not be loaded or failed on an input. */
  TOKENIZER_FAILED: 'TOKENIZER_FAILED',
  /** No backend (or not the requested one) could be initialised. */
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  /** The backend failed while running a batch. */
  INFERENCE_FAILED: 'INFERENCE_FAILED',
  /** Weight files (safetensors / PyTorch .bin) could not be read. */
  WEIGHTS_INVALID: 'WEIGHTS_INVALID',
  /** A cache operation failed. */
  CACHE_FAILED: 'CACHE_FAILED',
  /** A persistent cache file is corrupt or not ours. */
  CACHE_CORRUPT: 'CACHE_CORRUPT',
  /** Vectors of different lengths were compared, or a vector has the wrong length. */
  DIMENSION_MISMATCH: 'DIMENSION_MISMATCH',
  /** The work queue is full; retry later. */
  OVERLOADED: 'OVERLOADED',
  /** An operation took longer than allowed. */
  TIMEOUT: 'TIMEOUT',
  /** The object was used after dispose(). */
  DISPOSED: 'DISPOSED',
  /** A feature is not supported by this model or backend. */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The distributed mode's queue (Redis) cannot be reached, or refused a command. */
  QUEUE_UNAVAILABLE: 'QUEUE_UNAVAILABLE',
  /** A queue holds jobs for another model, dtype or dimension than this process serves (vectors never mix). */
  MODEL_MISMATCH: 'MODEL_MISMATCH',
  /** An output (file, folder, checkpoint) could not be written: disk full, no permission, read-only filesystem. */
  OUTPUT_FAILED: 'OUTPUT_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options of {@link EmbedderError}. */
export interface EmbedderErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Structured facts about the failure (the limit, the field, the file…). */
  details?: Record<string, unknown>;
}

/**
 * The one error class of embedder. Recognise it with {@link isEmbedderError} (works across package copies),
 * switch on `code`.
 */
export class EmbedderError extends Error {
  override readonly name = 'EmbedderError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: EmbedderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): { name: string; code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** True for an {@link EmbedderError} (by name and code, so two copies of this package still agree). */
export function isEmbedderError(error: unknown, code?: ErrorCode): error is EmbedderError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  if (candidate.name !== 'EmbedderError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}

/** Wraps any thrown value as an EmbedderError of `code`, keeping an EmbedderError as it is. */
export function toEmbedderError(error: unknown, code: ErrorCode, message: string): EmbedderError {
  if (isEmbedderError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EmbedderError(code, `${message}: ${reason}`, { cause: error });
}

/** True for one of the stable {@link ErrorCode}s. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCode, value);
}

/** An error as plain JSON, the form in which errors cross a thread or process boundary. */
export interface SerializedError {
  /** The error's class name (`EmbedderError`, `AbortError`, `TypeError`…). */
  name: string;
  message: string;
  /** An EmbedderError's code (or another library's string code, kept for logs). */
  code?: string;
  /** An EmbedderError's details, reduced to what JSON holds. */
  details?: Record<string, unknown>;
}

/** `details` as JSON holds them (a value JSON cannot hold is dropped; details JSON cannot encode at all become {}). */
function jsonDetails(details: unknown): Record<string, unknown> | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Any thrown value as plain JSON, for postMessage or a wire: name, message, and an EmbedderError's code and details.
 * {@link deserializeError} turns it back into an error that `isEmbedderError` recognises by the same code.
 */
export function serializeError(error: unknown): SerializedError {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) };
  const { name, message, code, details } = error as { name?: unknown; message?: unknown; code?: unknown; details?: unknown };
  const serialized: SerializedError = {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(error),
  };
  if (typeof code === 'string') serialized.code = code;
  const plain = jsonDetails(details);
  if (plain !== undefined) serialized.details = plain;
  return serialized;
}

/**
 * The error a {@link SerializedError} describes: an EmbedderError with its code and details, or an Error with the
 * original name (so an `AbortError` is still one). An EmbedderError code this version does not know becomes a plain
 * Error whose message starts with the code, never an EmbedderError with a code no table has.
 */
export function deserializeError(serialized: SerializedError): Error {
  if (serialized.name === 'EmbedderError' && isErrorCode(serialized.code)) {
    return new EmbedderError(serialized.code, serialized.message, { details: serialized.details ?? {} });
  }
  if (serialized.name === 'EmbedderError') return new Error(`${serialized.code ?? 'UNKNOWN'}: ${serialized.message}`);
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.code !== undefined) Object.assign(error, { code: serialized.code });
  return error;
}
