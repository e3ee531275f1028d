import type { SingleBar } from 'cli-progress';
import type { FineTuneOptions, TrainingEvent } from '@embedder-rag/train';
import { createStderrLogger } from '../logger';

/** Flags of `embedder finetune`. */
export interface FinetuneFlags {
  model: string;
  modelPath?: string;
  train: string;
  eval?: string;
  loss: 'cosine' | 'mnrl';
  epochs?: number;
  batchSize?: number;
  lr?: number;
  warmupRatio?: number;
  seed?: number;
  maxSeqLength?: number;
  weightDecay?: number;
  output: string;
  checkpointEvery?: number;
  resume?: boolean;
  overwrite?: boolean;
  onnx?: string;
  runtime?: 'node-gpu' | 'node' | 'wasm' | 'cpu';
  verbose?: boolean;
}

/**
 * Progress on stderr: a cli-progress bar on a terminal (`Bar`, loaded only then), else one line per evaluation and
 * checkpoint.
 */
function createReporter(Bar: typeof SingleBar | undefined): { onProgress: (event: TrainingEvent) => void; stop: () => void } {
  let bar: SingleBar | undefined;
  let baseline = '';
  let step = 0;
  let total = 0;
  const line = (text: string) => {
    if (bar) bar.stop();
    process.stderr.write(`${text}\n`);
  };
  return {
    onProgress(event) {
      switch (event.type) {
        case 'start':
          if (event.startStep > 0) process.stderr.write(`resuming at step ${event.startStep} of ${event.totalSteps}\n`);
          process.stderr.write(`training on ${event.examples} pairs, ${event.totalSteps} steps (${event.runtime})\n`);
          if (Bar) {
            bar = new Bar({
              stream: process.stderr,
              format: '{bar} {percentage}% | step {value}/{total} | loss {loss} | {rate} ex/s | ETA {eta_formatted}',
              hideCursor: true,
              etaBuffer: 20,
              fps: 5,
            });
            bar.start(event.totalSteps, event.startStep, { loss: '-', rate: '0' });
          }
          total = event.totalSteps;
          step = event.startStep;
          break;
        case 'step':
          step = event.step;
          bar?.update(event.step, { loss: event.loss.toFixed(4), rate: event.examplesPerSecond.toFixed(1) });
          break;
        case 'eval': {
          const { metric, value } = event.evaluation;
          line(`epoch ${event.epoch}: ${metric} ${value.toFixed(4)}${baseline}`);
          if (bar && step < total) bar.start(total, step, {});
          break;
        }
        case 'checkpoint':
          if (!Bar) process.stderr.write(`checkpoint step ${event.step}: ${event.folder}\n`);
          break;
        case 'baseline':
          baseline = ` (before training: ${event.evaluation.value.toFixed(4)})`;
          break;
      }
    },
    stop: () => bar?.stop(),
  };
}

/**
 * `embedder finetune`: trains the model on the pairs file and writes a model folder; prints a JSON summary on
 * stdout (output folder, steps, evaluations, seconds, examples/s).
 */
export async function runFinetune(flags: FinetuneFlags): Promise<void> {
  const { fineTune } = await import('@embedder-rag/train');
  const reporter = createReporter(process.stderr.isTTY === true ? (await import('cli-progress')).SingleBar : undefined);
  const options: FineTuneOptions = {
    model: flags.model,
    train: flags.train,
    loss: flags.loss,
    output: flags.output,
    overwrite: flags.overwrite === true,
    resume: flags.resume === true,
    onProgress: reporter.onProgress,
    logger: createStderrLogger(flags.verbose === true),
  };
  const modelPath = flags.modelPath ?? process.env.EMBEDDER_MODEL_PATH;
  if (modelPath) options.modelPath = modelPath;
  if (flags.eval !== undefined) options.eval = flags.eval;
  if (flags.epochs !== undefined) options.epochs = flags.epochs;
  if (flags.batchSize !== undefined) options.batchSize = flags.batchSize;
  if (flags.lr !== undefined) options.learningRate = flags.lr;
  if (flags.warmupRatio !== undefined) options.warmupRatio = flags.warmupRatio;
  if (flags.seed !== undefined) options.seed = flags.seed;
  if (flags.maxSeqLength !== undefined) options.maxSeqLength = flags.maxSeqLength;
  if (flags.weightDecay !== undefined) options.weightDecay = flags.weightDecay;
  if (flags.checkpointEvery !== undefined) options.checkpointEvery = flags.checkpointEvery;
  if (flags.onnx !== undefined) options.onnxTemplate = flags.onnx;
  if (flags.runtime !== undefined) options.runtimes = [flags.runtime];
  try {
    const result = await fineTune(options);
    const summary = {
      output: result.output,
      steps: result.steps,
      stepsRun: result.stepsRun,
      trainPairs: result.trainPairs,
      baseline: result.baseline ? { metric: result.baseline.metric, value: result.baseline.value } : undefined,
      evaluations: result.evaluations,
      trainSeconds: Number(result.trainSeconds.toFixed(2)),
      examplesPerSecond: Number(result.examplesPerSecond.toFixed(2)),
      runtime: result.runtime,
      onnx: result.onnxInitializers !== undefined,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    reporter.stop();
  }
}
