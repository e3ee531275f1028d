import { describe, expect, it } from 'vitest';
import { BackendRegistry, EmbedderError, type Device, type ModelSpec } from '@embedder-rag/core';
import { modelDir } from '@embedder-rag/test-fixtures';
import { maxAbsDifference, probeBatch } from './device';
import { onnxBackend } from './index';

const backend = await new BackendRegistry().register(onnxBackend()).resolve('onnx');

function spec(dir: string, dimension: number): ModelSpec {
  return { id: 'test', dir, architecture: 'bert', hiddenSize: dimension, dimension, maxSeqLength: 128, pooling: 'mean', normalize: true, dense: [], includePrompt: true, prompts: {}, config: { vocab_size: 30522 } };
}
const tiny = spec(modelDir('test-fixtures/tiny-bert'), 16);
const minilm = spec(modelDir('all-MiniLM-L6-v2'), 384);

async function failure(device: Device): Promise<EmbedderError> {
  const error = await backend.createSession(tiny, { dtype: 'fp32', device, intraOpThreads: 1 }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `device ${device} loaded: this test expects a machine without a GPU (CI)`).toBeInstanceOf(EmbedderError);
  return error as EmbedderError;
}

/**
 * Device selection against the real errors of this machine's onnxruntime-node: the CPU package without the CUDA
 * provider files (ONNXRUNTIME_NODE_INSTALL=skip) and no GPU, so no WebGPU adapter either.
 */
describe('onnx device selection (no GPU here)', () => {
  it('auto tries cuda then webgpu, runs on the CPU and says why each GPU was skipped', async () => {
    const session = await backend.createSession(tiny, { dtype: 'fp32', device: 'auto', intraOpThreads: 1 });
    try {
      const report = session.info.deviceReport!;
      expect(report).toMatchObject({ requested: 'auto', used: 'cpu' });
      expect(report.skipped).toHaveLength(2);
      expect(report.skipped[0]).toMatch(/^cuda: onnxruntime-node was installed without its CUDA provider .*ONNXRUNTIME_NODE_INSTALL=cuda12.*CUDA 12/);
      expect(report.skipped[1]).toMatch(/^webgpu: no WebGPU adapter/);
      expect(report.gpuMaxAbsDiff).toBeUndefined();
      // Same vectors as an explicit CPU session.
      const cpu = await backend.createSession(tiny, { dtype: 'fp32', device: 'cpu', intraOpThreads: 1 });
      expect(await maxAbsDifference(session, cpu, probeBatch(tiny))).toBe(0);
      expect(cpu.info.deviceReport).toEqual({ requested: 'cpu', used: 'cpu', skipped: [] });
      await cpu.dispose();
    } finally {
      await session.dispose();
    }
  });

  it('an explicit cuda fails at load with one typed line naming what is missing', async () => {
    const error = await failure('cuda');
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/^device 'cuda' cannot be used: onnxruntime-node was installed without its CUDA provider \(no libonnxruntime_providers_cuda\.so in .*\): reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12, and install the CUDA 12 and cuDNN 9 libraries/);
    expect(error.message).toContain('Failed to load shared library');
  });

  it('an explicit webgpu fails at load naming the missing adapter', async () => {
    const error = await failure('webgpu');
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/^device 'webgpu' cannot be used: no WebGPU adapter.*Failed to get a WebGPU adapter/);
  });

  it('the GPU-vs-CPU probe measures a real difference (fp32 against q8 here, as a stand-in for GPU rounding)', async () => {
    const fp32 = await backend.createSession(minilm, { dtype: 'fp32', device: 'cpu', intraOpThreads: 1 });
    const q8 = await backend.createSession(minilm, { dtype: 'q8', device: 'cpu', intraOpThreads: 1 });
    try {
      const batch = probeBatch(minilm);
      expect(batch.inputIds.every((id) => id > 0n && id < 30522n)).toBe(true);
      const same = await maxAbsDifference(fp32, fp32, batch);
      const quantised = await maxAbsDifference(fp32, q8, batch);
      expect(same).toBe(0);
      expect(quantised).toBeGreaterThan(1e-4);
      expect(quantised).toBeLessThan(1);
    } finally {
      await fp32.dispose();
      await q8.dispose();
    }
  });
});
