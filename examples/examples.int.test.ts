import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { modelRoot } from '@embedder-rag/test-fixtures';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

// The examples run as written, on the built packages (`pnpm test` builds first).
describe('examples', () => {
  it('basic-usage.ts embeds three chunks and prints similarities and stats', async () => {
    const { stdout } = await run(process.execPath, ['basic-usage.ts'], {
      cwd: here,
      env: { ...process.env, EMBEDDER_MODEL_PATH: modelRoot(), HF_HUB_OFFLINE: '1' },
      timeout: 120_000,
    });
    expect(stdout).toContain('Generated 3 embeddings of dimension 384');
    const [, related] = /similarity\(hello, greetings\) = ([\d.-]+)/.exec(stdout)!;
    const [, unrelated] = /similarity\(hello, invoice\)\s+= ([\d.-]+)/.exec(stdout)!;
    expect(Number(related)).toBeGreaterThan(Number(unrelated));
    expect(stdout).toMatch(/Average batch time: [\d.]+ms \(onnx, onnxruntime-node/);
  });
});
