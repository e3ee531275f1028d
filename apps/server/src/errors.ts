import { isEmbedderError, type ErrorCode } from '@embedder-rag/core';
import { describeValidation, type SchemaError } from './validation';

/** Error types as TEI serialises them (PascalCase), plus the few TEI has no name for. */
export type ErrorType =
  | 'Empty'
  | 'Validation'
  | 'Tokenizer'
  | 'Backend'
  | 'Overloaded'
  | 'Unhealthy'
  | 'Unauthorized'
  | 'NotFound'
  | 'ClientClosed';

/** The one error-code → HTTP status table of embedder (TEI's statuses; see HTTP-API.md "Errors"). */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, [status: number, type: ErrorType]>> = {
  INVALID_INPUT: [422, 'Validation'],
  INPUT_TOO_LONG: [413, 'Validation'],
  INVALID_CONFIG: [422, 'Validation'],
  DIMENSION_MISMATCH: [422, 'Validation'],
  UNSUPPORTED: [422, 'Validation'],
  TOKENIZER_FAILED: [422, 'Tokenizer'],
  MODEL_NOT_FOUND: [404, 'NotFound'],
  OVERLOADED: [429, 'Overloaded'],
  DISPOSED: [503, 'Unhealthy'],
  TIMEOUT: [503, 'Unhealthy'],
  MODEL_INVALID: [424, 'Backend'],
  DOWNLOAD_FAILED: [424, 'Backend'],
  BACKEND_UNAVAILABLE: [424, 'Backend'],
  INFERENCE_FAILED: [424, 'Backend'],
  WEIGHTS_INVALID: [424, 'Backend'],
  CACHE_FAILED: [424, 'Backend'],
  CACHE_CORRUPT: [424, 'Backend'],
  QUEUE_UNAVAILABLE: [503, 'Unhealthy'],
  MODEL_MISMATCH: [422, 'Validation'],
  OUTPUT_FAILED: [424, 'Backend'],
};

/** An error with its HTTP status, error type and extra headers (e.g. Retry-After). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Which body shape a route answers errors in. */
export type ErrorShape = 'tei' | 'openai';

/** TEI's `{ error, error_type }` or OpenAI's `{ message, code, type }` (plus TEI's `error_type` there too). */
export function errorBody(error: HttpError, shape: ErrorShape): Record<string, unknown> {
  if (shape === 'openai') return { message: error.message, code: error.status, type: error.type, error_type: error.type };
  return { error: error.message, error_type: error.type };
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: SchemaError[];
  validationContext?: string;
}

/**
 * Turns anything thrown while serving a request into an {@link HttpError}; `payloadLimit` names the body limit,
 * `received` (the request's parsed body and query) lets a validation message say what type it got.
 */
export function toHttpError(error: unknown, payloadLimit: number, received: Record<string, unknown> = {}): HttpError {
  if (error instanceof HttpError) return error;
  if (isEmbedderError(error)) {
    const [status, type] = STATUS_BY_CODE[error.code] ?? [500, 'Backend'];
    const headers: Record<string, string> = {};
    if (error.code === 'OVERLOADED') headers['retry-after'] = String(retryAfterSeconds(error.details));
    return new HttpError(status, type, error.message, headers);
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new HttpError(499, 'ClientClosed', 'the client closed the connection before the answer was ready');
  }
  const fastifyError = error as FastifyLikeError;
  if (fastifyError.validation !== undefined) {
    const where = fastifyError.validationContext ?? 'body';
    return new HttpError(422, 'Validation', describeValidation(fastifyError.validation, where, received[where]));
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'Validation', `request body is larger than the payload limit of ${payloadLimit} bytes (EMBEDDER_PAYLOAD_LIMIT)`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'Validation', 'request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'Validation', 'unsupported content-type; send application/json');
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new HttpError(400, 'Validation', `request body is not valid JSON: ${fastifyError.message}`);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpError(status, 'Validation', fastifyError.message);
  }
  return new HttpError(500, 'Backend', `internal error: ${error instanceof Error ? error.message : String(error)}`);
}

/** Seconds a client should wait after OVERLOADED: the facade's estimate when it gives one, else 1. */
function retryAfterSeconds(details: Record<string, unknown>): number {
  const hint = details.retryAfterMs;
  if (typeof hint === 'number' && Number.isFinite(hint) && hint > 0) return Math.min(60, Math.ceil(hint / 1000));
  return 1;
}
