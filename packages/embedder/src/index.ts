export { EmbeddingGenerator, type GeneratorOptions } from './generator';
export { createDefaultRegistry } from './registry';
export { ModelManager, TokenizerCache, type Disposable, type ManagedModelState, type ModelManagerOptions } from './model-manager';
export type { EmbedOptions, EmbedResult, TokenInfo, ModelInfo, GeneratorStats, BatchEvent } from './types';
// The facade is what users import: re-export the types and builders they need alongside it.
export {
  EmbedderConfig,
  EmbedderError,
  ErrorCode,
  isEmbedderError,
  ModelType,
  BackendRegistry,
  type Chunk,
  type ChunkMetadata,
  type EmbeddedChunk,
  type Device,
  type Dtype,
  type EmbedderSettings,
  type EmbeddingHost,
  type Logger,
} from '@embedder-rag/core';
