import { isEmbedderError } from '@embedder-rag/core';

/**
 * The one line printed on stderr when a command fails: `embedder: CODE: message`. With `verbose`, the stack and
 * every cause follow on later lines.
 */
export function formatError(error: unknown, verbose: boolean): string {
  const code = isEmbedderError(error) ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  // One line, whatever the message holds: a file's content quoted in it must not break the format.
  const line = `embedder: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}`;
  if (!verbose) return line;
  const parts = [line];
  let current: unknown = error;
  while (current instanceof Error) {
    if (current.stack) parts.push(current.stack);
    if (isEmbedderError(current) && Object.keys(current.details).length > 0) {
      parts.push(`details: ${JSON.stringify(current.details)}`);
    }
    current = current.cause;
    if (current !== undefined && !(current instanceof Error)) parts.push(`cause: ${String(current)}`);
  }
  return parts.join('\n');
}
