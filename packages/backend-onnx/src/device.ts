import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackendSession, Device, ModelSpec, ResolvedDevice, TokenizedBatch } from '@embedder-rag/core';

/** Devices `auto` tries, best first; the CPU provider always loads. */
export const AUTO_ORDER: readonly ResolvedDevice[] = ['cuda', 'webgpu', 'cpu'];

/** The devices to try for a requested one. */
export function candidateDevices(device: Device): readonly ResolvedDevice[] {
  return device === 'auto' ? AUTO_ORDER : [device];
}

/** onnxruntime-node's execution providers for a device; GPU sessions keep CPU for operators the GPU lacks. */
export function executionProviders(device: ResolvedDevice): string[] {
  return device === 'cpu' ? ['cpu'] : [device, 'cpu'];
}

/** Where onnxruntime-node keeps its native libraries for this platform (bin/napi-v6/<platform>/<arch>). */
function nativeDir(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/**
 * One line saying what is missing for `device`, from onnxruntime-node's own error. The CUDA provider is a separate
 * download (`ONNXRUNTIME_NODE_INSTALL=cuda12` at install time) that needs the CUDA 12 and cuDNN 9 libraries;
 * WebGPU needs an adapter (a GPU with Vulkan drivers on Linux).
 */
export function explainDeviceFailure(device: ResolvedDevice, error: unknown): string {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
  if (device === 'cuda') {
    const dir = nativeDir();
    if (dir !== undefined && !existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))) {
      return `onnxruntime-node was installed without its CUDA provider (no libonnxruntime_providers_cuda.so in ${dir}): reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12, and install the CUDA 12 and cuDNN 9 libraries [${reason}]`;
    }
    return `the CUDA provider could not load: the CUDA 12 and cuDNN 9 libraries and an NVIDIA driver must be on the library path [${reason}]`;
  }
  if (device === 'webgpu') {
    const adapter = /Failed to get a WebGPU adapter[^|]*/.exec(reason)?.[0]?.trim();
    return `no WebGPU adapter: onnxruntime-node's WebGPU provider needs a GPU with Vulkan drivers (libvulkan.so.1) [${adapter ?? reason}]`;
  }
  return reason;
}

/**
 * A deterministic probe batch for comparing two sessions of one model: `rows` rows of `tokens` ids spread over the
 * vocabulary (never 0, the usual padding id), every position attended.
 */
export function probeBatch(model: ModelSpec, rows = 4, tokens = 16): TokenizedBatch {
  const vocab = Number(model.config.vocab_size);
  const size = Number.isInteger(vocab) && vocab > 2 ? vocab : 1000;
  const inputIds = new BigInt64Array(rows * tokens);
  for (let i = 0; i < inputIds.length; i++) inputIds[i] = BigInt(1 + ((i * 7919 + 104729) % (size - 1)));
  return {
    inputIds,
    attentionMask: new BigInt64Array(rows * tokens).fill(1n),
    tokenTypeIds: new BigInt64Array(rows * tokens),
    batchSize: rows,
    sequenceLength: tokens,
  };
}

/** The largest absolute difference between two sessions' vectors for the same probe batch. */
export async function maxAbsDifference(a: BackendSession, b: BackendSession, batch: TokenizedBatch): Promise<number> {
  const [left, right] = [await a.run(batch), await b.run(batch)];
  if (left.length !== right.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < left.length; i++) max = Math.max(max, Math.abs(left[i]! - right[i]!));
  return max;
}
