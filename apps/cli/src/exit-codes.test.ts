import { describe, expect, it } from 'vitest';
import { EmbedderError, ErrorCode } from '@embedder-rag/core';
import { EXIT_CODES, EXIT_INTERNAL, EXIT_USAGE, exitCodeFor } from './exit-codes';
import { formatError } from './report';

describe('exit codes', () => {
  it('maps every error code to a non-zero exit code', () => {
    for (const code of Object.values(ErrorCode)) expect(EXIT_CODES[code]).toBeGreaterThan(0);
    expect(exitCodeFor(new EmbedderError('INVALID_CONFIG', 'x'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new EmbedderError('INVALID_INPUT', 'x'))).toBe(3);
    expect(exitCodeFor(new EmbedderError('MODEL_NOT_FOUND', 'x'))).toBe(4);
    expect(exitCodeFor(new EmbedderError('MODEL_INVALID', 'x'))).toBe(5);
    expect(exitCodeFor(new Error('bug'))).toBe(EXIT_INTERNAL);
  });
});

describe('formatError', () => {
  it('is one line without --verbose, with the stack and cause with it', () => {
    const error = new EmbedderError('MODEL_INVALID', 'onnx/model.onnx is truncated\n(protobuf)', { cause: new Error('inner') });
    expect(formatError(error, false)).toBe('embedder: MODEL_INVALID: onnx/model.onnx is truncated (protobuf)');
    const verbose = formatError(error, true);
    expect(verbose.split('\n').length).toBeGreaterThan(2);
    expect(verbose).toContain('Error: inner');
    expect(formatError(new TypeError('boom'), false)).toBe('embedder: INTERNAL: boom');
  });
});
