export { ErrorCode, EmbedderError, isEmbedderError, toEmbedderError, type EmbedderErrorOptions } from './errors';
export { noopLogger, fromPino, type Logger, type LogFields, type PinoLike } from './logger';
export type { Chunk, ChunkMetadata, EmbeddedChunk, Device, Dtype, PoolingMode, ResolvedDevice } from './types';
export {
  ModelType,
  MODEL_TABLE,
  DEFAULT_MODEL,
  findBuiltinModel,
  type BuiltinModelId,
  type BuiltinModelInfo,
  type CustomModel,
  type DenseLayerSpec,
  type ModelSpec,
} from './models';
export { poolHiddenStates, l2NormalizeRows, type HiddenStateShape } from './pooling';
export type { CacheStats, EmbeddingCache } from './cache';
export {
  warmupSession,
  assertBatchShape,
  type Backend,
  type BackendRegistration,
  type BackendSession,
  type DeviceReport,
  type SessionInfo,
  type SessionOptions,
  type TokenizedBatch,
} from './backend';
export { BackendRegistry, type BackendStatus } from './registry';
export {
  EmbedderConfig,
  embedderSettingsSchema,
  defaultSettings,
  throughputReplicas,
  DEFAULT_MAX_PADDING_RATIO,
  validateSettings,
  settingsFromEnv,
  ENV_VARIABLES,
  type EmbedderSettings,
  type PerformanceConstraints,
  type PresetName,
} from './config';
export { MIN_NODE_VERSION, unsupportedNodeMessage } from './node-version';
