export { TrainableBert, TRAINABLE_FAMILIES, WORD_EMBEDDINGS, l2Normalize, type TrainableBertOptions, type BatchWords } from './trainable-bert';
export { cosineSimilarityLoss, multipleNegativesRankingLoss, MNRL_SCALE, type LossName } from './losses';
export {
  Optimizer,
  warmupLinear,
  warmupSteps,
  clipCoefficient,
  gradientNorm,
  decaysBySentenceTransformers,
  type OptimizerOptions,
  type DecayFilter,
  type Gradient,
  type RowGradient,
} from './optimizer';
export { trainStep, batchLoss, timed, type PairBatch, type TrainStepOptions } from './train-step';
export { readPairs, type TextPair, type ReadPairsOptions } from './pairs';
export { lengthGroups, GROUP_OVERHEAD_TOKENS } from './length-groups';
export { registerTrainingKernels } from './wasm-kernels';
export { activateTrainingRuntime } from './runtime';
export { epochOrder, mixSeed } from './random';
export { fineTune, type FineTuneOptions, type FineTuneResult, type TrainingEvent } from './fine-tune';
export { evaluatePairs, spearman, type Evaluation } from './evaluate';
export { writeModelFolder, type ModelCard, type WrittenFolder } from './model-folder';
export { patchOnnxInitializers, type PatchParameter, type InitializerMatch } from './onnx-patch';
export { saveCheckpoint, loadCheckpoint, latestCheckpoint, CHECKPOINT_DIR, type CheckpointState } from './checkpoint';
