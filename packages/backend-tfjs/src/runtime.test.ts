import { isEmbedderError } from '@embedder-rag/core';
import { describe, expect, it } from 'vitest';
import { selectRuntime, wasmRuntime, type TfjsRuntimeCandidate, type TfjsRuntimeName } from './runtime';
import { TfjsBackend } from './backend';

/** A runtime whose package is not installed or whose native library is missing. */
const unavailable = (name: TfjsRuntimeName, reason: string): TfjsRuntimeCandidate => ({
  name,
  activate: () => Promise.reject(new Error(reason)),
});

describe('selectRuntime', () => {
  it('takes the first runtime that activates and records the better ones that did not', async () => {
    const logged: unknown[] = [];
    const logger = { debug: (m: string, f?: object) => logged.push([m, f]), info: (m: string, f?: object) => logged.push([m, f]), warn: () => {}, error: () => {} };
    const { runtime, skipped } = await selectRuntime(
      [unavailable('node-gpu', 'libcudart.so.11 not found'), unavailable('node', 'tfjs_binding.node can not be found'), wasmRuntime()],
      logger,
    );
    expect(runtime.name).toBe('wasm');
    expect(runtime.device).toBe('cpu');
    expect(runtime.label).toMatch(/^tfjs-wasm 4\.22\.0 \(simd, \d+ threads?\)$/);
    expect(skipped).toEqual([
      { name: 'node-gpu', reason: 'libcudart.so.11 not found' },
      { name: 'node', reason: 'tfjs_binding.node can not be found' },
    ]);
    expect(logged).toContainEqual(['tfjs runtime selected', { runtime: runtime.label, skipped }]);
  });

  it('prefers the first runtime when it is available', async () => {
    const chosen: TfjsRuntimeCandidate = { name: 'node-gpu', activate: async () => ({ name: 'node-gpu', label: 'gpu', device: 'cuda' }) };
    const { runtime, skipped } = await selectRuntime([chosen, wasmRuntime()]);
    expect(runtime).toEqual({ name: 'node-gpu', label: 'gpu', device: 'cuda' });
    expect(skipped).toEqual([]);
  });

  it('throws BACKEND_UNAVAILABLE naming every runtime and its reason when none works', async () => {
    const error = await selectRuntime([unavailable('node', 'no libtensorflow'), unavailable('cpu', 'broken')]).catch((e: unknown) => e);
    expect(isEmbedderError(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('node: no libtensorflow');
    expect((error as Error).message).toContain('cpu: broken');
  });
});

describe('TfjsBackend', () => {
  it('falls back past the native runtimes on this machine (libtensorflow absent) and shows the runtime it chose', async () => {
    const backend = new TfjsBackend();
    await backend.init();
    const described = backend.describe();
    expect(described.runtime).toMatch(/^tfjs-wasm /);
    // tfjs-node and tfjs-node-gpu are installed but their native library could not be downloaded.
    expect(described.skipped).toEqual([expect.stringMatching(/^node-gpu: /), expect.stringMatching(/^node: /)]);
  });

  it('declares safetensors then pytorch_model.bin, and refuses q8 with UNSUPPORTED', () => {
    const backend = new TfjsBackend({ runtimes: ['cpu'] });
    expect(backend.weightFiles('fp32')).toEqual([['model.safetensors', 'pytorch_model.bin']]);
    let error: unknown;
    try {
      backend.weightFiles('q8');
    } catch (caught) {
      error = caught;
    }
    expect(isEmbedderError(error, 'UNSUPPORTED')).toBe(true);
  });
});
