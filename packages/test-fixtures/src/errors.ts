import { isEmbedderError, type ErrorCode } from '@embedder-rag/core';

/**
 * Awaits `promise` and returns the EmbedderError it rejects with; throws (failing the test) when it resolves or
 * rejects with anything else.
 */
export async function embedderFailure(promise: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isEmbedderError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an EmbedderError, but the promise resolved');
}
