import { readFile } from 'node:fs/promises';
import { EmbedderError } from '@embedder-rag/core';

/** A parsed JSON object (config files are objects at the top level). */
export type JsonObject = Record<string, unknown>;

/**
 * Reads a JSON file. Returns undefined when the file does not exist; throws EmbedderError MODEL_INVALID naming the
 * file when it cannot be read or is not valid JSON of the expected top-level shape.
 */
export async function readJsonIfExists<T = JsonObject>(
  file: string,
  shape: 'object' | 'array' = 'object',
): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmbedderError('MODEL_INVALID', `${file} could not be read: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new EmbedderError('MODEL_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  const isArray = Array.isArray(value);
  const ok = shape === 'array' ? isArray : typeof value === 'object' && value !== null && !isArray;
  if (!ok) {
    throw new EmbedderError('MODEL_INVALID', `${file} must hold a JSON ${shape}`, { details: { file } });
  }
  return value as T;
}

/** A positive whole number, or undefined for anything else (absent, string, NaN, 0, 1.5). */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
