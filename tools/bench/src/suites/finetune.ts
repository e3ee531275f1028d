import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelDir, sharedFile } from '@embedder-rag/test-fixtures';
import { fineTune } from '@embedder-rag/train';
import { loadAverage, peakRssMb } from '../measure';
import type { BenchSuite, SuiteResult } from '../suite';

/**
 * sentence-transformers 6.2.0 `fit` with the same recipe, measured on this machine (../shared/models/MANIFEST.md,
 * "The STS-B fine-tuning anchor"): STS-B test Spearman 0.820325 → 0.839999, 55.9 s of training, peak RSS 1,410 MiB.
 * Python is not part of this repository's toolchain, so the peer's figures are the recorded ones, not re-measured.
 */
const SENTENCE_TRANSFORMERS = { spearman: 0.839999, before: 0.820325, seconds: 55.9, peakRssMb: 1410, pairs: 1500 };

/**
 * all-MiniLM-L6-v2 (the original model.safetensors: EMBEDDER_SAFETENSORS_MODEL, from fetch-weights.sh) fine-tuned
 * on STS-B dev (1,500 pairs) with the anchor's recipe, then STS-B test Spearman of the trained model.
 */
async function run(): Promise<SuiteResult> {
  const model = process.env.EMBEDDER_SAFETENSORS_MODEL;
  if (!model) throw new Error('EMBEDDER_SAFETENSORS_MODEL is not set: run ../shared/models/fetch-weights.sh and point it at the folder it prints');
  const output = join(mkdtempSync(join(tmpdir(), 'embedder-bench-finetune-')), 'model');
  const loadBefore = loadAverage();
  // CPU time of this process (training is single-threaded on wasm): unlike wall time, it barely depends on how many
  // other processes share the 2 cores. Loads are sampled at every step.
  const cpuSeconds = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  let cpuAtStart = 0;
  let cpuAtLastStep = 0;
  // Peak RSS when the last step ends: training alone, before the evaluation and the output folder (ONNX) are written.
  let trainingPeakRss = 0;
  const loads: number[] = [];
  try {
    const result = await fineTune({
      model,
      train: sharedFile('data/stsb/sts-dev.csv'),
      eval: sharedFile('data/stsb/sts-test.csv'),
      evaluateBefore: false,
      loss: 'cosine',
      epochs: 1,
      batchSize: 16,
      learningRate: 2e-5,
      warmupRatio: 0.1,
      seed: 42,
      maxSeqLength: 256,
      maxGradNorm: 1,
      output,
      onnxTemplate: join(modelDir('all-MiniLM-L6-v2'), 'onnx', 'model.onnx'),
      onProgress: (event) => {
        if (event.type === 'start') cpuAtStart = cpuSeconds();
        if (event.type !== 'step') return;
        cpuAtLastStep = cpuSeconds();
        loads.push(loadAverage());
        if (event.step === event.totalSteps) trainingPeakRss = peakRssMb();
        if (event.step % 10 === 0 || event.step === event.totalSteps) {
          const cpuPerStep = (cpuAtLastStep - cpuAtStart) / event.step;
          process.stderr.write(
            `finetune step ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(4)} ${event.examplesPerSecond.toFixed(1)} ex/s, ${cpuPerStep.toFixed(2)} CPU s/step, load ${loads.at(-1)!.toFixed(1)}\n`,
          );
        }
      },
    });
    const spearman = result.evaluations.at(-1)?.value ?? Number.NaN;
    const rss = peakRssMb();
    // From the start event (tokenising the 3,000 texts included) to the last step: the training loop's CPU.
    const trainCpu = cpuAtLastStep - cpuAtStart;
    const meanLoad = loads.reduce((sum, load) => sum + load, 0) / Math.max(1, loads.length);
    const st = SENTENCE_TRANSFORMERS;
    return {
      suite: 'finetune',
      description: 'all-MiniLM-L6-v2 on STS-B dev (1,500 pairs), CosineSimilarityLoss, batch 16, 1 epoch, lr 2e-5, 10% warm-up, seed 42, 256 tokens, clip 1; STS-B test Spearman after',
      rows: [
        {
          system: `embedder finetune (${result.runtime})`,
          metrics: {
            stsb_spearman: spearman.toFixed(5),
            train_s: result.trainSeconds.toFixed(1),
            train_cpu_s: trainCpu.toFixed(1),
            cpu_s_per_step: (trainCpu / result.stepsRun).toFixed(2),
            pairs_per_s: result.examplesPerSecond.toFixed(2),
            pairs_per_cpu_s: (result.trainPairs / trainCpu).toFixed(2),
            peak_rss_train_mb: trainingPeakRss.toFixed(0),
            peak_rss_mb: rss,
          },
        },
        {
          system: 'sentence-transformers 6.2.0 (recorded, MANIFEST)',
          metrics: {
            stsb_spearman: st.spearman.toFixed(5),
            train_s: st.seconds.toFixed(1),
            train_cpu_s: '-',
            cpu_s_per_step: '-',
            pairs_per_s: (st.pairs / st.seconds).toFixed(2),
            pairs_per_cpu_s: '-',
            peak_rss_train_mb: '-',
            peak_rss_mb: st.peakRssMb,
          },
        },
      ],
      notes: [
        `${Math.abs(spearman - st.spearman) <= 0.005 ? 'PASS' : 'FAIL'} STS-B test Spearman ${spearman.toFixed(5)} within 0.005 of sentence-transformers' ${st.spearman.toFixed(4)} (from ${st.before.toFixed(4)})`,
        `time ${(result.trainSeconds / st.seconds).toFixed(2)}x, peak RSS ${(rss / st.peakRssMb).toFixed(2)}x sentence-transformers'; load average ${loadBefore.toFixed(1)} before, ${meanLoad.toFixed(1)} mean over the steps (max ${Math.max(...loads).toFixed(1)}), ${loadAverage().toFixed(1)} after (2 cores)`,
        `training CPU ${trainCpu.toFixed(1)} s for ${result.stepsRun} steps vs ${result.trainSeconds.toFixed(1)} s wall: the peer's 55.9 s were wall time on a quiet machine`,
        'peak RSS is the bench process\'s (peak_rss_train_mb: when the last step ended; peak_rss_mb: after the evaluation and the output folder with its ONNX graph): run this suite alone (pnpm bench finetune) for a clean figure',
      ],
    };
  } finally {
    rmSync(join(output, '..'), { recursive: true, force: true });
  }
}

export const finetuneSuite: BenchSuite = { name: 'finetune', run };
export default finetuneSuite;
