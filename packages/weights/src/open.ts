import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EmbedderError } from '@embedder-rag/core';
import { readSafetensors } from './safetensors';
import { readTorchBin } from './torch-bin';
import type { WeightSet } from './weight-set';

/** Weight files of a Hugging Face model folder, best first. */
export const DEFAULT_WEIGHT_FILES: readonly string[] = ['model.safetensors', 'pytorch_model.bin'];

/**
 * Reads a weight file into memory and parses it: `.safetensors` as safetensors, anything else (`.bin`, `.pt`) as a
 * PyTorch zip checkpoint.
 * @throws EmbedderError MODEL_INVALID when the file cannot be read, WEIGHTS_INVALID when it cannot be parsed.
 */
export async function openWeights(file: string): Promise<WeightSet> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new EmbedderError('MODEL_INVALID', `cannot read weight file ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  return basename(file).endsWith('.safetensors') ? readSafetensors(bytes, file) : readTorchBin(bytes, file);
}

/**
 * Opens the first weight file of a model folder that exists, in the order given.
 * @param files candidates relative to `dir`; default `model.safetensors`, then `pytorch_model.bin`.
 * @throws EmbedderError MODEL_INVALID naming the folder and the files looked for when none exists.
 */
export async function openModelWeights(dir: string, files: readonly string[] = DEFAULT_WEIGHT_FILES): Promise<WeightSet> {
  const found = files.map((file) => join(dir, file)).find((path) => existsSync(path));
  if (!found) {
    throw new EmbedderError('MODEL_INVALID', `no weight file in ${dir} (looked for ${files.join(', ')})`, {
      details: { dir, files },
    });
  }
  return openWeights(found);
}
