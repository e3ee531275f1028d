import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { cosine, modelDir, sharedFile } from '@embedder-rag/test-fixtures';
import { OnnxBackend } from '@embedder-rag/backend-onnx';
import { TfjsBackend } from '@embedder-rag/backend-tfjs';
import { isEmbedderError, type BackendSession } from '@embedder-rag/core';
import { loadModelSpec } from '@embedder-rag/models';
import { loadTokenizer } from '@embedder-rag/tokenizer';
import { activateTrainingRuntime, batchLoss, fineTune, Optimizer, readPairs, registerTrainingKernels, TrainableBert, trainStep, type TrainingEvent } from './index';

const tinyBert = modelDir('test-fixtures/tiny-bert');
const tinyXlmRoberta = modelDir('test-fixtures/tiny-xlm-roberta');
const work = mkdtempSync(join(tmpdir(), 'embedder-finetune-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function embedWith(session: BackendSession, dir: string, texts: string[]): Promise<Float32Array[]> {
  const spec = await loadModelSpec(dir);
  const tokenizer = await loadTokenizer(dir, { maxSeqLength: spec.maxSeqLength });
  const pooled = await session.run(tokenizer.encodeBatch(texts).batch);
  const dimension = pooled.length / texts.length;
  return texts.map((_, row) => pooled.slice(row * dimension, (row + 1) * dimension));
}

/**
 * Embeds `texts` with the output folder on onnx and on tfjs, and with the base model on onnx: the least cosine
 * between the output's two backends, and between the output and the base model.
 */
async function compareOutput(output: string, baseModel: string, texts: string[]): Promise<{ agreement: number; moved: number }> {
  const onnx = await new OnnxBackend().createSession(await loadModelSpec(output), { dtype: 'fp32', device: 'cpu' });
  const tfjs = await new TfjsBackend({ runtimes: ['wasm'] }).createSession(await loadModelSpec(output), { dtype: 'fp32', device: 'cpu' });
  const base = await new OnnxBackend().createSession(await loadModelSpec(baseModel), { dtype: 'fp32', device: 'cpu' });
  try {
    const fromOnnx = await embedWith(onnx, output, texts);
    const fromTfjs = await embedWith(tfjs, output, texts);
    const fromBase = await embedWith(base, baseModel, texts);
    return {
      agreement: Math.min(...fromOnnx.map((vector, i) => cosine(vector, fromTfjs[i]!))),
      moved: Math.min(...fromOnnx.map((vector, i) => cosine(vector, fromBase[i]!))),
    };
  } finally {
    await Promise.all([onnx.dispose(), tfjs.dispose(), base.dispose()]);
  }
}

describe('fineTune on tiny-bert', () => {
  const output = join(work, 'tuned');
  const train = join(work, 'train.csv');
  const evalFile = join(work, 'eval.csv');
  const events: TrainingEvent[] = [];
  let texts: string[] = [];

  beforeAll(async () => {
    // STS-B rows as they are (tab separated, score 0–5 in column 5): 48 to train, 40 to evaluate.
    writeFileSync(train, readFileSync(sharedFile('data/stsb/sts-dev.csv'), 'utf8').split('\n').slice(0, 48).join('\n'));
    const test = readFileSync(sharedFile('data/stsb/sts-test.csv'), 'utf8').split('\n').slice(0, 40);
    writeFileSync(evalFile, test.join('\n'));
    const pairs = await readPairs(evalFile, { requireScore: true });
    texts = [...pairs.map((pair) => pair.sentence1), ...pairs.map((pair) => pair.sentence2)].slice(0, 50);
  });

  it('trains, evaluates every epoch and writes a complete sentence-transformers folder', async () => {
    const result = await fineTune({
      model: tinyBert,
      train,
      eval: evalFile,
      loss: 'cosine',
      epochs: 2,
      batchSize: 16,
      learningRate: 1e-3,
      seed: 7,
      output,
      runtimes: ['wasm'],
      onProgress: (event) => events.push(event),
    });
    expect(result.steps).toBe(6);
    expect(events.filter((event) => event.type === 'step')).toHaveLength(6);
    expect(result.evaluations.map((evaluation) => [evaluation.epoch, evaluation.metric])).toEqual([
      [1, 'spearman'],
      [2, 'spearman'],
    ]);
    expect(result.baseline?.metric).toBe('spearman');
    // 25 named initializers and the 12 MatMul weights the exporter stored transposed under onnx::MatMul_* names.
    expect(result.onnxInitializers).toBe(37);
    for (const file of ['model.safetensors', 'config.json', 'tokenizer.json', 'vocab.txt', 'modules.json', '1_Pooling/config.json', 'sentence_bert_config.json', 'README.md', 'onnx/model.onnx']) {
      expect(existsSync(join(output, file)), file).toBe(true);
    }
    expect(existsSync(join(output, 'checkpoints'))).toBe(false);
    const card = readFileSync(join(output, 'README.md'), 'utf8');
    expect(card).toContain('CosineSimilarityLoss');
    expect(card).toContain('| 2 | spearman |');
    expect(card).toContain('base_model: tiny-bert');
  });

  it('the ONNX graph in the folder gives the vectors of its model.safetensors (50 texts, cosine >= 0.99999), unlike the base model', async () => {
    expect(texts).toHaveLength(50);
    const { agreement, moved } = await compareOutput(output, tinyBert, texts);
    console.log(`onnx vs tfjs in the output folder: min cosine ${agreement.toPrecision(9)}; vs the base model: ${moved.toPrecision(6)}`);
    expect(agreement).toBeGreaterThanOrEqual(0.99999);
    expect(moved).toBeLessThan(0.999);
  });

  it('refuses an existing output folder unless asked to overwrite', async () => {
    const error = await fineTune({ model: tinyBert, train, loss: 'cosine', output }).catch((caught: unknown) => caught);
    expect(isEmbedderError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/already exists.*--overwrite/);
    expect(existsSync(join(output, 'model.safetensors'))).toBe(true);
  });

  it('names the families it can train when given another', async () => {
    const error = await fineTune({ model: modelDir('test-fixtures/tiny-mpnet'), train, loss: 'cosine', output: join(work, 'mpnet'), runtimes: ['wasm'] }).catch(
      (caught: unknown) => caught,
    );
    expect(isEmbedderError(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/'mpnet' model; the trainer fine-tunes these families: bert/);
  });

  it('trains with MultipleNegativesRankingLoss and reports recall@1 on unscored pairs', async () => {
    const pairsFile = join(work, 'pairs.jsonl');
    const pairs = (await readPairs(train, { requireScore: true })).slice(0, 24);
    writeFileSync(pairsFile, pairs.map((pair) => JSON.stringify({ anchor: pair.sentence1, positive: pair.sentence2 })).join('\n'));
    const result = await fineTune({ model: tinyBert, train: pairsFile, eval: pairsFile, loss: 'mnrl', batchSize: 8, learningRate: 1e-3, output: join(work, 'mnrl'), runtimes: ['wasm'] });
    expect(result.steps).toBe(3);
    expect(result.evaluations[0]!.metric).toBe('recall@1');
    expect(result.evaluations[0]!.value).toBeGreaterThan(0);
  });
});

describe('fineTune on tiny-xlm-roberta (positions past the padding index, no token types)', () => {
  const output = join(work, 'tuned-xlmr');

  it('one AdamW step on a fixed batch lowers its loss', async () => {
    await activateTrainingRuntime(['wasm']);
    const model = await TrainableBert.load(tinyXlmRoberta);
    const optimizer = new Optimizer({ kind: 'adamw' });
    try {
      const pairs = (await readPairs(sharedFile('data/stsb/sts-dev.csv'), { requireScore: true })).slice(0, 16);
      const batch = {
        first: model.encode(pairs.map((pair) => pair.sentence1)),
        second: model.encode(pairs.map((pair) => pair.sentence2)),
        scores: Float32Array.from(pairs, (pair) => pair.score!),
      };
      const { loss: before } = trainStep(model, optimizer, batch, { loss: 'cosine', learningRate: 1e-3 });
      const after = tf.tidy(() => batchLoss(model, batch, 'cosine').dataSync()[0]!);
      console.log(`tiny-xlm-roberta: loss ${before.toFixed(6)} before one AdamW step (lr 1e-3), ${after.toFixed(6)} after`);
      expect(after).toBeLessThan(before);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });

  it('writes a folder whose ONNX graph gives the vectors of its model.safetensors on tfjs (50 texts, cosine >= 0.99999), unlike the base model', async () => {
    const train = join(work, 'train-xlmr.csv');
    writeFileSync(train, readFileSync(sharedFile('data/stsb/sts-dev.csv'), 'utf8').split('\n').slice(0, 48).join('\n'));
    const result = await fineTune({ model: tinyXlmRoberta, train, loss: 'cosine', epochs: 2, batchSize: 16, learningRate: 1e-3, seed: 5, output, runtimes: ['wasm'] });
    expect(result.steps).toBe(6);
    const texts = (await readPairs(sharedFile('data/stsb/sts-test.csv'), { requireScore: true })).slice(0, 25).flatMap((pair) => [pair.sentence1, pair.sentence2]);
    expect(texts).toHaveLength(50);
    const { agreement, moved } = await compareOutput(output, tinyXlmRoberta, texts);
    console.log(`tiny-xlm-roberta output: onnx vs tfjs min cosine ${agreement.toPrecision(9)} (${result.onnxInitializers} initializers replaced); vs the base model: ${moved.toPrecision(6)}`);
    expect(agreement).toBeGreaterThanOrEqual(0.99999);
    expect(moved).toBeLessThan(0.999);
  });
});

describe('the wasm UnsortedSegmentSum kernel (tf.gather gradient)', () => {
  it('gives what the cpu runtime gives, repeated and out-of-range segments included', async () => {
    await activateTrainingRuntime(['wasm']);
    registerTrainingKernels();
    const values = Array.from({ length: 5 * 3 }, (_, i) => Math.sin(i) * 10);
    const ids = [2, 0, 2, 7, 3];
    const run = () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(values, [5, 3]), tf.tensor1d(ids, 'int32'), 4).arraySync());
    const onWasm = run();
    await activateTrainingRuntime(['cpu']);
    const onCpu = run();
    await activateTrainingRuntime(['wasm']);
    expect(onWasm).toEqual(onCpu);
  });
});
