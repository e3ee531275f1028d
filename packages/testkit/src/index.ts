export { describeBackendConformance, createPipelineSession, type BackendConformanceOptions, type MiniLmConformance } from './conformance';
export { batchFromIds, row } from './batches';
export { fetchMiniLmWeights, TEST_MODEL_CACHE } from './minilm-weights';
export { embedTexts, type EmbedTextsResult } from './embed-texts';
export { loadTestModel } from './models';
export { writeTorchCheckpoint, type CheckpointTensor } from './torch-checkpoint';
export { batchTokenizer } from './tokenize';
