import { describe, expect, it } from 'vitest';
import { EmbedderError, ErrorCode } from '@embedder-rag/core';
import { STATUS_BY_CODE, errorBody, toHttpError } from './errors';

describe('error mapping', () => {
  it('maps every core error code to a 4xx/5xx status (never 500)', () => {
    for (const code of Object.values(ErrorCode)) {
      const [status] = STATUS_BY_CODE[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).not.toBe(500);
    }
  });

  it('follows TEI: validation 422, too long 413, backend 424, overloaded 429 with Retry-After', () => {
    expect(toHttpError(new EmbedderError('INVALID_INPUT', 'x'), 1).status).toBe(422);
    expect(toHttpError(new EmbedderError('INPUT_TOO_LONG', 'x'), 1).status).toBe(413);
    expect(toHttpError(new EmbedderError('INFERENCE_FAILED', 'x'), 1).status).toBe(424);
    const overloaded = toHttpError(new EmbedderError('OVERLOADED', 'full'), 1);
    expect(overloaded.status).toBe(429);
    expect(overloaded.headers['retry-after']).toBe('1');
  });

  it('names the payload limit on 413', () => {
    const error = toHttpError(Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 4096);
    expect(error.status).toBe(413);
    expect(error.message).toContain('4096 bytes');
  });

  it('writes TEI and OpenAI bodies', () => {
    const error = toHttpError(new EmbedderError('INVALID_INPUT', 'bad'), 1);
    expect(errorBody(error, 'tei')).toEqual({ error: 'bad', error_type: 'Validation' });
    expect(errorBody(error, 'openai')).toEqual({ message: 'bad', code: 422, type: 'Validation', error_type: 'Validation' });
  });
});
