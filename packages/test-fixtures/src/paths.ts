import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/testkit/src/paths.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** ../shared beside the repository (where CI puts it). */
export const sharedDir = resolve(repoRoot, '..', 'shared');

/**
 * The folder holding model folders: EMBEDDER_MODEL_PATH, else ../shared/models. Throws (never skips) when
 * neither exists: a test that needs the model must fail loudly without it.
 */
export function modelRoot(): string {
  const fromEnv = process.env.EMBEDDER_MODEL_PATH;
  const candidate = fromEnv && fromEnv !== '' ? resolve(fromEnv) : join(sharedDir, 'models');
  if (!existsSync(candidate)) {
    throw new Error(
      `model folder not found: ${candidate}. Set EMBEDDER_MODEL_PATH to the folder holding all-MiniLM-L6-v2 ` +
        `(../shared/models in CI).`,
    );
  }
  return candidate;
}

/** A model folder under {@link modelRoot}, e.g. `all-MiniLM-L6-v2` or `test-fixtures/tiny-bert`; throws if absent. */
export function modelDir(name: string): string {
  const dir = join(modelRoot(), name);
  if (!existsSync(dir)) throw new Error(`test model not found: ${dir} (EMBEDDER_MODEL_PATH=${modelRoot()})`);
  return dir;
}

/** A file under ../shared (reference vectors, data sets); throws if absent. */
export function sharedFile(relativePath: string): string {
  const fromEnv = process.env.EMBEDDER_SHARED_PATH;
  const file = join(fromEnv && fromEnv !== '' ? resolve(fromEnv) : sharedDir, relativePath);
  if (!existsSync(file)) throw new Error(`shared test data not found: ${file}`);
  return file;
}

/** Parses a JSONL file into objects. */
export function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
