import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isEmbedderError } from '@embedder-rag/core';
import { repoRoot } from '@embedder-rag/test-fixtures';
import { buildServer, call, spawnServer, startTestServer } from './test-helpers';

/**
 * EMBEDDER_DEVICE through the server, against this machine's real onnxruntime-node (CPU package, no CUDA provider
 * files, no GPU): auto serves on the CPU and says why in /info, /metrics and the startup log; cuda fails at start.
 */
describe('device selection in the server (no GPU here)', () => {
  // The built entry is what users run; building under load can take minutes (hooks have 180 s).
  beforeAll(() => buildServer());

  it('auto: serves on the CPU; /info and /metrics say a GPU was tried and why it was skipped', async () => {
    const server = await startTestServer({ modelSettings: { device: 'auto' } });
    try {
      const info = await call<{ device: { requested: string; used: string; skipped: string[]; gpu_max_abs_diff: number | null } }>(server.url, 'GET', '/info');
      expect(info.body.device).toMatchObject({ requested: 'auto', used: 'cpu', gpu_max_abs_diff: null });
      expect(info.body.device.skipped[0]).toMatch(/^cuda: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
      expect(info.body.device.skipped[1]).toMatch(/^webgpu: no WebGPU adapter/);
      const metrics = await call(server.url, 'GET', '/metrics');
      expect(metrics.text).toContain('embedder_device_info{model="all-minilm-l6-v2",requested="auto",used="cpu",fallback="1"} 1');
      expect(metrics.text).not.toMatch(/^embedder_device_gpu_max_abs_diff\{/m);
      const embedded = await call<number[][]>(server.url, 'POST', '/embed', { inputs: 'hello world' });
      expect(embedded.body[0]).toHaveLength(384);
    } finally {
      await server.close();
    }
  });

  it('cuda: startServer rejects with BACKEND_UNAVAILABLE in one line naming what is missing', async () => {
    const error = await startTestServer({ modelSettings: { device: 'cuda' } }).then(
      async (server) => {
        await server.close();
        return undefined;
      },
      (caught: unknown) => caught,
    );
    expect(isEmbedderError(error, 'BACKEND_UNAVAILABLE'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/^device 'cuda' cannot be used: onnxruntime-node was installed without its CUDA provider.*ONNXRUNTIME_NODE_INSTALL=cuda12.*CUDA 12/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('dist/main.js with EMBEDDER_DEVICE=cuda exits 1 and its last stderr line is the typed error', async () => {
    const started = spawnServer(join(repoRoot, 'apps/server/dist/main.js'), { EMBEDDER_DEVICE: 'cuda' }, undefined, 120_000);
    const failure = await started.then(
      (server) => {
        server.child.kill('SIGKILL');
        return undefined;
      },
      (caught: unknown) => caught as Error,
    );
    expect(failure?.message).toMatch(/server exited \(1\) before ready/);
    const lines = failure!.message.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^embedder-server: BACKEND_UNAVAILABLE: device 'cuda' cannot be used: onnxruntime-node was installed without its CUDA provider/);
    // onnxruntime's own multi-line provider-bridge error is not printed (its log level is fatal while probing).
    expect(failure!.message).not.toContain('provider_bridge_ort');
  });
});
