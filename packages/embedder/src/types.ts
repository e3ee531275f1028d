// The generator's types are core's: every EmbeddingHost (this facade's generator, a host on a worker thread) shares them.
export type { BatchEvent, EmbedOptions, EmbedResult, GeneratorStats, ModelInfo, TokenInfo } from '@embedder-rag/core';
