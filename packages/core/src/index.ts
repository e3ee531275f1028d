export {
  ErrorCode,
  EmbedderError,
  isEmbedderError,
  isErrorCode,
  toEmbedderError,
  serializeError,
  deserializeError,
  type EmbedderErrorOptions,
  type SerializedError,
} from './errors';
export { noopLogger, fromPino, type Logger, type LogFields, type PinoLike } from './logger';
export { POOLING_MODES, type Chunk, type ChunkMetadata, type EmbeddedChunk, type Device, type Dtype, type PoolingMode, type ResolvedDevice } from './types';
export {
  ModelType,
  MODEL_TABLE,
  DEFAULT_MODEL,
  findBuiltinModel,
  SUPPORTED_MODEL_TYPES,
  type BuiltinModelId,
  type BuiltinModelInfo,
  type CustomModel,
  type DenseLayerSpec,
  type ModelSpec,
} from './models';
export { poolHiddenStates, poolBatch, l2NormalizeRows, type HiddenStateShape } from './pooling';
export { applyDenseLayers, withPostPooling, parseDenseActivation, type DenseActivation, type DenseLayer } from './post-pooling';
export type { CacheStats, EmbeddingCache, SharedCacheTier, SharedCacheTierStats } from './cache';
export type {
  Awaitable,
  BatchEvent,
  EmbeddingHost,
  EmbedOptions,
  EmbedResult,
  GeneratorStats,
  ModelInfo,
  PromptOptions,
  TokenInfo,
} from './host';
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
  DEFAULT_BATCH_OVERHEAD_TOKENS,
  validateSettings,
  settingsFromEnv,
  settingFlagHelp,
  type EmbedderSettings,
  type PerformanceConstraints,
  type PresetName,
} from './config';
export { MODEL_SETTINGS, parseSettingText, settingSchema, redisUrlProblem, type SettingDefinition, type SettingKind } from './settings';
export { MIN_NODE_VERSION, unsupportedNodeMessage } from './node-version';
export { mulberry32 } from './random';
