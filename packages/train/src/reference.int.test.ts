import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelDir, readJsonl } from '@embedder-rag/test-fixtures';
import { readSafetensors } from '@embedder-rag/weights';
import { activateTrainingRuntime, Optimizer, TrainableBert, trainStep, batchLoss, type PairBatch } from './index';
import * as tf from '@tensorflow/tfjs-core';

// The torch reference: tiny-bert trained on one fixed batch in eval mode (see reference.json's recipe).
const tinyBert = modelDir('test-fixtures/tiny-bert');
const referenceDir = join(tinyBert, 'finetune-reference');
interface ReferenceRun {
  steps: number;
  loss_per_step: number[];
  loss_after: number;
  probe_vectors_after: number[][];
}
const reference = JSON.parse(readFileSync(join(referenceDir, 'reference.json'), 'utf8')) as {
  probes: string[];
  probe_vectors_before: number[][];
  'sgd-step1': ReferenceRun;
  'adamw-step3': ReferenceRun;
};
const pairs = readJsonl<{ sentence1: string; sentence2: string; score: number }>(join(referenceDir, 'batch.jsonl'));

function batchOf(model: TrainableBert): PairBatch {
  return {
    first: model.encode(pairs.map((pair) => pair.sentence1)),
    second: model.encode(pairs.map((pair) => pair.sentence2)),
    scores: Float32Array.from(pairs.map((pair) => pair.score)),
  };
}

function lossOf(model: TrainableBert, batch: PairBatch): number {
  return tf.tidy(() => batchLoss(model, batch, 'cosine').dataSync()[0]!);
}

/**
 * The key biases' gradient is zero in exact arithmetic (adding a constant to every key score of a query leaves its
 * softmax unchanged), so both torch's and our gradient there are rounding noise (~1e-11). AdamW divides by
 * √v + 1e-8 and amplifies such noise into updates of ~1e-6 that no second implementation reproduces; SGD does not.
 * For them, with AdamW, both updates must be the weight decay plus at most that noise: |update − decay| ≤ steps·lr·1e-2.
 */
const NOISE_ONLY_UNDER_ADAM = /attention\.self\.key\.bias$/;

/**
 * Every tensor's update (new − old) within 1e-3 × that tensor's largest reference update + 1e-7 (the key biases
 * under AdamW: see {@link NOISE_ONLY_UNDER_ADAM}). Returns the worst error as a fraction of its tolerance.
 */
async function expectReferenceWeights(model: TrainableBert, file: string, adam?: { steps: number; lr: number; weightDecay: number }): Promise<number> {
  const expected = readSafetensors(new Uint8Array(readFileSync(join(referenceDir, file))), file);
  const after = await model.parameterValues();
  let checked = 0;
  let worstFraction = 0;
  for (const [name, values] of after) {
    const before = model.source.float32(name);
    const target = expected.float32(name);
    let largest = 0;
    for (let i = 0; i < target.length; i++) largest = Math.max(largest, Math.abs(target[i]! - before[i]!));
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - before[i]! - (target[i]! - before[i]!)));
    checked++;
    if (adam && NOISE_ONLY_UNDER_ADAM.test(name)) {
      const keep = (1 - adam.lr * adam.weightDecay) ** adam.steps;
      const noiseBound = adam.steps * adam.lr * 1e-2;
      for (let i = 0; i < values.length; i++) {
        const decayed = before[i]! * keep;
        expect(Math.abs(values[i]! - decayed), `${name}[${i}] ours`).toBeLessThanOrEqual(noiseBound);
        expect(Math.abs(target[i]! - decayed), `${name}[${i}] reference`).toBeLessThanOrEqual(noiseBound);
      }
      continue;
    }
    const tolerance = 1e-3 * largest + 1e-7;
    expect(worst, `${name}: update error ${worst} vs largest reference update ${largest}`).toBeLessThanOrEqual(tolerance);
    worstFraction = Math.max(worstFraction, worst / tolerance);
  }
  expect(checked).toBe(37);
  // The pooler gets no gradient: the reference leaves it as it was, and so does the trainer (it is not a parameter).
  expect([...after.keys()].some((name) => name.startsWith('pooler'))).toBe(false);
  expect(Array.from(expected.float32('pooler.dense.weight'))).toEqual(Array.from(model.source.float32('pooler.dense.weight')));
  return worstFraction;
}

async function expectProbes(model: TrainableBert, vectors: number[][]): Promise<void> {
  const probes = await model.embedTexts(reference.probes);
  probes.forEach((probe, row) => probe.forEach((value, i) => expect(Math.abs(value - vectors[row]![i]!)).toBeLessThanOrEqual(1e-5)));
}

describe('fine-tuning tiny-bert against the torch reference', () => {
  beforeAll(async () => {
    await activateTrainingRuntime(['wasm']);
  });

  let model: TrainableBert | undefined;
  afterAll(() => model?.dispose());

  it('one plain SGD step (lr 0.5) gives the reference weights, losses and probe vectors', async () => {
    model = await TrainableBert.load(tinyBert, { maxSeqLength: 256 });
    await expectProbes(model, reference.probe_vectors_before);
    const batch = batchOf(model);
    const run = reference['sgd-step1'];
    const { loss } = trainStep(model, new Optimizer({ kind: 'sgd' }), batch, { loss: 'cosine', learningRate: 0.5 });
    expect(Math.abs(loss - run.loss_per_step[0]!)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(lossOf(model, batch) - run.loss_after)).toBeLessThanOrEqual(1e-5);
    const worst = await expectReferenceWeights(model, 'sgd-step1.safetensors');
    console.log(`SGD step: worst tensor update error = ${(worst * 100).toFixed(2)}% of its tolerance`);
    await expectProbes(model, run.probe_vectors_after);
    model.dispose();
    model = undefined;
  });

  it('three AdamW steps (lr 1e-3, weight decay 0.01 on every tensor) give the reference weights, losses and probe vectors', async () => {
    model = await TrainableBert.load(tinyBert, { maxSeqLength: 256 });
    const batch = batchOf(model);
    const run = reference['adamw-step3'];
    const optimizer = new Optimizer({ kind: 'adamw', weightDecay: 0.01, decay: 'all' });
    for (let step = 0; step < run.steps; step++) {
      const { loss } = trainStep(model, optimizer, batch, { loss: 'cosine', learningRate: 1e-3 });
      expect(Math.abs(loss - run.loss_per_step[step]!), `loss of step ${step + 1}`).toBeLessThanOrEqual(1e-5);
    }
    expect(Math.abs(lossOf(model, batch) - run.loss_after)).toBeLessThanOrEqual(1e-5);
    const worst = await expectReferenceWeights(model, 'adamw-step3.safetensors', { steps: run.steps, lr: 1e-3, weightDecay: 0.01 });
    console.log(`AdamW steps: worst tensor update error = ${(worst * 100).toFixed(2)}% of its tolerance (key biases: decay + noise)`);
    await expectProbes(model, run.probe_vectors_after);
    optimizer.dispose();
  });
});
