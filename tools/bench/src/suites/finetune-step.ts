import * as tf from '@tensorflow/tfjs-core';
import { sharedFile } from '@embedder-rag/test-fixtures';
import { activateTrainingRuntime, batchLoss, epochOrder, lengthGroups, Optimizer, readPairs, timed, TrainableBert, trainStep, warmupLinear, type PairBatch } from '@embedder-rag/train';
import { loadAverage, peakRssMb } from '../measure';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/** Steps profiled (after one unmeasured warm-up step), the first batches of the finetune suite's recipe. */
const STEPS = Number(process.env.BENCH_FINETUNE_STEPS ?? 4);

/**
 * Where the CPU time of one training step goes: all-MiniLM-L6-v2 on the first batches of the finetune suite's
 * recipe (STS-B dev, seed 42, batch 16, 256 tokens, dropout on, AdamW, clip 1), process CPU time per phase
 * (robust on a busy machine), then a tfjs kernel profile of one more step (wall time per kernel).
 */
async function run(): Promise<SuiteResult> {
  const modelDir = process.env.EMBEDDER_SAFETENSORS_MODEL;
  if (!modelDir) throw new Error('EMBEDDER_SAFETENSORS_MODEL is not set: run ../shared/models/fetch-weights.sh and point it at the folder it prints');
  const runtime = await activateTrainingRuntime(['wasm']);
  const model = await TrainableBert.load(modelDir, { maxSeqLength: 256 });
  const optimizer = new Optimizer({ kind: 'adamw', weightDecay: 0.01 });
  try {
    const pairs = await readPairs(sharedFile('data/stsb/sts-dev.csv'), { requireScore: true });
    const order = epochOrder(pairs.length, 42, 0);
    const totalSteps = Math.ceil(pairs.length / 16);
    const cpuMs = new Map<string, number>();
    let tokens = 0;
    let padded = 0;
    let longest = 0;
    const step = (index: number, measure: boolean) => {
      const phases = measure ? cpuMs : undefined;
      const chosen = Array.from(order.subarray(index * 16, index * 16 + 16), (i) => pairs[i]!);
      const batch: PairBatch = timed(phases, 'tokenise', () => ({
        first: model.encode(chosen.map((pair) => pair.sentence1)),
        second: model.encode(chosen.map((pair) => pair.sentence2)),
        scores: Float32Array.from(chosen, (pair) => pair.score!),
      }));
      if (measure) {
        const lengths = [...batch.first, ...batch.second].map((encoding) => encoding.ids.length);
        tokens += lengths.reduce((sum, length) => sum + length, 0);
        padded += lengthGroups(lengths).reduce((sum, group) => sum + group.length * Math.max(...group.map((index) => lengths[index]!)), 0);
        longest = Math.max(longest, ...lengths);
        // Forward passes alone (not part of the step): what dropout's masks cost, and the backward pass by difference.
        timed(phases, '(forward alone, eval mode)', () => tf.tidy(() => batchLoss(model, batch, 'cosine').dataSync()));
        timed(phases, '(forward alone, dropout)', () => tf.tidy(() => batchLoss(model, batch, 'cosine', model.trainingDropout(42, index)).dataSync()));
      }
      const options = { loss: 'cosine' as const, learningRate: warmupLinear(index, totalSteps, Math.ceil(totalSteps * 0.1), 2e-5), maxGradNorm: 1, dropout: model.trainingDropout(42, index) };
      timed(phases, 'step total', () => trainStep(model, optimizer, batch, phases ? { ...options, cpuMs: phases } : options));
    };
    step(0, false);
    for (let index = 1; index <= STEPS; index++) step(index, true);
    const kernels = new Map<string, { ms: number; calls: number }>();
    const profile = await tf.profile(() => {
      step(STEPS + 1, false);
      return [];
    });
    for (const kernel of profile.kernels) {
      // `…__op` entries are scopes around a kernel listed too (fused matMul's custom gradient): counted once.
      if (kernel.name.endsWith('__op')) continue;
      const batched = kernel.inputShapes.some((shape) => shape !== null && shape.length > 2 && shape.slice(0, -2).reduce((product, dim) => product * dim, 1) > 1);
      const name = /MatMul/.test(kernel.name) ? `${kernel.name} (${batched ? 'batched' : 'single'})` : kernel.name;
      const entry = kernels.get(name) ?? { ms: 0, calls: 0 };
      entry.ms += kernel.kernelTimeMs as number;
      entry.calls++;
      kernels.set(name, entry);
    }
    const kernelTotal = [...kernels.values()].reduce((sum, entry) => sum + entry.ms, 0);
    const rows: BenchRow[] = [...cpuMs].map(([phase, ms]) => ({ system: phase, metrics: { cpu_ms_per_step: (ms / STEPS).toFixed(0) } }));
    const stepMs = (cpuMs.get('step total') ?? 0) / STEPS;
    const top = [...kernels]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 8)
      .map(([name, entry]) => `${name} ${((100 * entry.ms) / kernelTotal).toFixed(1)}% (${entry.calls} calls)`);
    const heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength;
    return {
      suite: 'finetune-step',
      description: `all-MiniLM-L6-v2 on ${runtime.label}: process CPU per training step by phase, mean of ${STEPS} steps of the finetune recipe (${tokens / STEPS} tokens, ${padded / STEPS} padded in length groups, per step; longest text ${longest})`,
      rows,
      notes: [
        `${(stepMs / 1000).toFixed(2)} CPU s per step -> ${((stepMs * totalSteps) / 60_000).toFixed(1)} CPU min for the ${totalSteps} steps of one epoch`,
        `kernel profile of one step (wall ms, load ${loadAverage().toFixed(1)}): ${top.join(', ')}`,
        `peak RSS ${peakRssMb().toFixed(0)} MB${heap === undefined ? '' : `, wasm heap ${(heap / 2 ** 20).toFixed(0)} MB`}, tfjs tensors ${tf.memory().numTensors}`,
      ],
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

export const finetuneStepSuite: BenchSuite = { name: 'finetune-step', run };
export default finetuneStepSuite;
