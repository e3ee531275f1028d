import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EmbedderError, noopLogger, type Logger } from '@embedder-rag/core';
import type { TfjsRuntimeName } from '@embedder-rag/backend-tfjs';
import { resolveModel } from '@embedder-rag/models';
import { CHECKPOINT_DIR, latestCheckpoint, loadCheckpoint, resumeHint, saveCheckpoint, type CheckpointState } from './checkpoint';
import { evaluatePairs, type Evaluation } from './evaluate';
import type { LossName } from './losses';
import { writeModelFolder } from './model-folder';
import { outputError } from './atomic';
import { Optimizer, warmupLinear, warmupSteps } from './optimizer';
import { readPairs, type TextPair } from './pairs';
import { epochOrder } from './random';
import { activateTrainingRuntime } from './runtime';
import { trainStep, type PairBatch } from './train-step';
import { TrainableBert } from './trainable-bert';

/** Progress of a run, as {@link FineTuneOptions.onProgress} receives it. */
export type TrainingEvent =
  | { type: 'start'; totalSteps: number; startStep: number; stepsPerEpoch: number; examples: number; runtime: string }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; learningRate: number; examplesPerSecond: number; elapsedSeconds: number }
  | { type: 'baseline'; evaluation: Evaluation }
  | { type: 'eval'; epoch: number; evaluation: Evaluation }
  | { type: 'checkpoint'; step: number; folder: string };

/** Options of {@link fineTune}. Defaults are sentence-transformers' `fit` defaults where it has them. */
export interface FineTuneOptions {
  /** Model folder (sentence-transformers / Hugging Face layout) or a name `resolveModel` finds. */
  model: string;
  /** A folder holding model folders, searched for `model` by name (EMBEDDER_MODEL_PATH). */
  modelPath?: string;
  /** Training pairs: a .jsonl/.tsv/.csv file (see readPairs) or pairs in memory. */
  train: string | readonly TextPair[];
  /** Evaluation pairs, evaluated after every epoch (Spearman for scored pairs, recall@1 otherwise). */
  eval?: string | readonly TextPair[];
  /** Also evaluate the base model before training (for the model card). @default true */
  evaluateBefore?: boolean;
  /** `cosine` (CosineSimilarityLoss, pairs scored in [0, 1]) or `mnrl` (MultipleNegativesRankingLoss, scale 20). */
  loss: LossName;
  /** @default 1 */
  epochs?: number;
  /** @default 16 */
  batchSize?: number;
  /** Peak learning rate of AdamW. @default 2e-5 */
  learningRate?: number;
  /** Share of the steps spent warming up (WarmupLinear). @default 0.1 */
  warmupRatio?: number;
  /** Seeds the shuffle and the dropout masks. @default 42 */
  seed?: number;
  /** Tokens per text; default: the model's max_seq_length. */
  maxSeqLength?: number;
  /** AdamW decoupled weight decay (not on biases and LayerNorm weights). @default 0.01 */
  weightDecay?: number;
  /** Global gradient-norm clip. @default 1 */
  maxGradNorm?: number;
  /** The folder to write the trained model to. */
  output: string;
  /** Replace an existing output folder. @default false */
  overwrite?: boolean;
  /** Continue from the newest checkpoint in `<output>/checkpoints` (from the start when there is none). */
  resume?: boolean;
  /** Save a checkpoint every this many optimizer steps (0: none). @default 0 */
  checkpointEvery?: number;
  /** The base model's ONNX graph, when the model folder has no onnx/model.onnx. */
  onnxTemplate?: string;
  /** tfjs runtimes to try, best first. @default ['node-gpu', 'node', 'wasm', 'cpu'] */
  runtimes?: readonly TfjsRuntimeName[];
  onProgress?: (event: TrainingEvent) => void;
  logger?: Logger;
}

/** What {@link fineTune} did. */
export interface FineTuneResult {
  output: string;
  files: string[];
  steps: number;
  /** Steps run by this call (fewer than `steps` after a resume). */
  stepsRun: number;
  trainPairs: number;
  baseline?: Evaluation;
  evaluations: { epoch: number; metric: string; value: number }[];
  trainSeconds: number;
  examplesPerSecond: number;
  runtime: string;
  onnxInitializers?: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new EmbedderError('INVALID_CONFIG', `${name} must be a positive integer, got ${value}`);
  return value;
}

function inRange(name: string, value: number, low: number, high: number): number {
  if (!(value >= low && value <= high)) throw new EmbedderError('INVALID_CONFIG', `${name} must be in [${low}, ${high}], got ${value}`);
  return value;
}

async function pairsOf(source: string | readonly TextPair[], requireScore: boolean, what: string): Promise<readonly TextPair[]> {
  if (typeof source === 'string') return readPairs(source, { requireScore });
  if (source.length === 0) throw new EmbedderError('INVALID_INPUT', `no ${what} pairs given`);
  if (requireScore && source.some((pair) => pair.score === undefined)) throw new EmbedderError('INVALID_INPUT', `every ${what} pair needs a score in [0, 1]`);
  return source;
}

async function resolveModelDir(model: string, modelPath: string | undefined): Promise<string> {
  if (existsSync(model)) return resolve(model);
  return (await resolveModel(model, modelPath === undefined ? {} : { modelPath })).dir;
}

/** Refuses an output folder that already holds something, unless overwriting (cleared) or resuming. */
async function prepareOutput(output: string, overwrite: boolean, resume: boolean): Promise<void> {
  if (!existsSync(output)) return;
  const entries = await readdir(output).catch(() => {
    throw new EmbedderError('INVALID_CONFIG', `output ${output} exists and is not a folder`, { details: { output, reason: 'OUTPUT_EXISTS' } });
  });
  if (entries.length === 0 || resume) return;
  if (!overwrite) {
    throw new EmbedderError('INVALID_CONFIG', `output folder ${output} already exists and is not empty (pass overwrite / --overwrite to replace it, or resume / --resume to continue its run)`, {
      details: { output, reason: 'OUTPUT_EXISTS' },
    });
  }
  for (const entry of entries) await rm(join(output, entry), { recursive: true, force: true });
}

/**
 * Fine-tunes a sentence-transformers BERT model as sentence-transformers' `fit` does (shuffled batches, the loss
 * on both columns' embeddings, AdamW with WarmupLinear, gradient clipping, dropout as config.json says) and writes
 * a complete model folder to `output` (see writeModelFolder). With `checkpointEvery`, saves checkpoints that
 * `resume` continues from; a resumed run ends with the same weights as an uninterrupted one.
 * @throws EmbedderError INVALID_INPUT (training file, naming the line), INVALID_CONFIG (settings, existing output),
 * UNSUPPORTED (a model family the trainer cannot train), MODEL_* (model folder).
 */
export async function fineTune(options: FineTuneOptions): Promise<FineTuneResult> {
  const logger = options.logger ?? noopLogger;
  const epochs = positiveInteger('epochs', options.epochs ?? 1);
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 16);
  const learningRate = inRange('learningRate', options.learningRate ?? 2e-5, 0, 1);
  const warmupRatio = inRange('warmupRatio', options.warmupRatio ?? 0.1, 0, 1);
  const seed = options.seed ?? 42;
  if (!Number.isSafeInteger(seed)) throw new EmbedderError('INVALID_CONFIG', `seed must be an integer, got ${seed}`);
  const weightDecay = inRange('weightDecay', options.weightDecay ?? 0.01, 0, 1);
  const maxGradNorm = options.maxGradNorm ?? 1;
  const checkpointEvery = options.checkpointEvery ?? 0;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) throw new EmbedderError('INVALID_CONFIG', `checkpointEvery must be a non-negative integer, got ${checkpointEvery}`);
  if (options.loss !== 'cosine' && options.loss !== 'mnrl') throw new EmbedderError('INVALID_CONFIG', `loss must be 'cosine' or 'mnrl', got '${String(options.loss)}'`);
  const output = resolve(options.output);

  // Cheap checks first: data and output before the model loads.
  const train = await pairsOf(options.train, options.loss === 'cosine', 'training');
  const evalPairs = options.eval === undefined ? undefined : await pairsOf(options.eval, false, 'evaluation');
  await prepareOutput(output, options.overwrite === true, options.resume === true);
  const modelDir = await resolveModelDir(options.model, options.modelPath);

  const runtime = await activateTrainingRuntime(options.runtimes, logger);
  const model = await TrainableBert.load(modelDir, options.maxSeqLength === undefined ? {} : { maxSeqLength: options.maxSeqLength });
  const optimizer = new Optimizer({ kind: 'adamw', weightDecay });
  try {
    const stepsPerEpoch = Math.ceil(train.length / batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    const warmup = warmupSteps(totalSteps, warmupRatio);
    const fingerprint = {
      model: modelDir,
      trainPairs: train.length,
      loss: options.loss,
      epochs,
      batchSize,
      learningRate,
      warmupRatio,
      seed,
      maxSeqLength: model.spec.maxSeqLength,
      weightDecay,
      maxGradNorm,
    };
    let state: CheckpointState = { step: 0, fingerprint, evaluations: [] };
    if (options.resume) {
      const folder = await latestCheckpoint(output);
      if (folder) {
        state = await loadCheckpoint(folder, model, optimizer, fingerprint);
        logger.info('resuming from checkpoint', { folder, step: state.step });
      }
    }
    const startStep = state.step;
    onProgress(options, { type: 'start', totalSteps, startStep, stepsPerEpoch, examples: train.length, runtime: runtime.label });

    const baseline = evalPairs && startStep === 0 && options.evaluateBefore !== false ? await evaluatePairs(model, evalPairs) : undefined;
    if (baseline) onProgress(options, { type: 'baseline', evaluation: baseline });
    const first = model.encode(train.map((pair) => pair.sentence1));
    const second = model.encode(train.map((pair) => pair.sentence2));
    const started = performance.now();
    let examplesSeen = 0;
    for (let step = startStep; step < totalSteps; step++) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const order = epochOrder(train.length, seed, epoch);
      const from = (step % stepsPerEpoch) * batchSize;
      const indices = Array.from(order.subarray(from, Math.min(from + batchSize, train.length)));
      const batch: PairBatch = { first: indices.map((i) => first[i]!), second: indices.map((i) => second[i]!) };
      if (options.loss === 'cosine') batch.scores = Float32Array.from(indices, (i) => train[i]!.score!);
      const lr = warmupLinear(step, totalSteps, warmup, learningRate);
      const { loss } = trainStep(model, optimizer, batch, {
        loss: options.loss,
        learningRate: lr,
        maxGradNorm,
        dropout: model.trainingDropout(seed, step),
      });
      examplesSeen += indices.length;
      const elapsedSeconds = (performance.now() - started) / 1000;
      onProgress(options, {
        type: 'step',
        step: step + 1,
        totalSteps,
        epoch: epoch + 1,
        loss,
        learningRate: lr,
        examplesPerSecond: examplesSeen / Math.max(elapsedSeconds, 1e-9),
        elapsedSeconds,
      });
      if ((step + 1) % stepsPerEpoch === 0 && evalPairs) {
        const evaluation = await evaluatePairs(model, evalPairs);
        state.evaluations.push({ epoch: epoch + 1, metric: evaluation.metric, value: evaluation.value });
        onProgress(options, { type: 'eval', epoch: epoch + 1, evaluation });
      }
      if (checkpointEvery > 0 && (step + 1) % checkpointEvery === 0 && step + 1 < totalSteps) {
        state.step = step + 1;
        const folder = await saveCheckpoint(output, model, optimizer, state);
        onProgress(options, { type: 'checkpoint', step: step + 1, folder });
      }
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const trainData = typeof options.train === 'string' ? basename(options.train) : 'pairs given in memory';
    const written = await writeModelFolderOrExplain(
      model,
      output,
      {
        baseModel: model.spec.id === basename(modelDir) ? basename(modelDir) : model.spec.id,
        trainData,
        trainPairs: train.length,
        ...(typeof options.eval === 'string' ? { evalData: basename(options.eval) } : {}),
        loss: options.loss === 'cosine' ? 'CosineSimilarityLoss (MSE of cos(u, v) against the score)' : 'MultipleNegativesRankingLoss (in-batch negatives, scale 20)',
        hyperparameters: {
          epochs,
          'batch size': batchSize,
          'learning rate': learningRate,
          'warm-up': `${warmup} steps (ratio ${warmupRatio}), then linear decay`,
          optimizer: `AdamW (betas 0.9/0.999, eps 1e-8, weight decay ${weightDecay}, not on biases and LayerNorm)`,
          'gradient clipping': maxGradNorm,
          seed,
          'max tokens': model.spec.maxSeqLength,
          steps: totalSteps,
        },
        evaluations: state.evaluations,
        ...(baseline ? { baseline: { metric: baseline.metric, value: baseline.value } } : {}),
        runtime: runtime.label,
        trainSeconds,
      },
      options.onnxTemplate,
    );
    await rm(join(output, CHECKPOINT_DIR), { recursive: true, force: true });
    const result: FineTuneResult = {
      output,
      files: written.files,
      steps: totalSteps,
      stepsRun: totalSteps - startStep,
      trainPairs: train.length,
      evaluations: state.evaluations,
      trainSeconds,
      examplesPerSecond: examplesSeen / Math.max(trainSeconds, 1e-9),
      runtime: runtime.label,
    };
    if (baseline) result.baseline = baseline;
    if (written.onnxInitializers !== undefined) result.onnxInitializers = written.onnxInitializers;
    return result;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

function onProgress(options: FineTuneOptions, event: TrainingEvent): void {
  options.onProgress?.(event);
}

/** writeModelFolder, with a full disk or a refused write reported as OUTPUT_FAILED (checkpoints stay for --resume). */
async function writeModelFolderOrExplain(...args: Parameters<typeof writeModelFolder>): ReturnType<typeof writeModelFolder> {
  try {
    return await writeModelFolder(...args);
  } catch (error) {
    throw outputError(error, `the model folder ${args[1]}`, await resumeHint(args[1], 'free space and run again'));
  }
}
