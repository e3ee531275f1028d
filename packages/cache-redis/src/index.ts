export { openRedisCacheTier, DEFAULT_TIER_TIMEOUT_MS, type RedisCacheTierOptions } from './tier';
export { encodeVector, decodeVector, HEADER_BYTES } from './value';
export type { SharedCacheTier, SharedCacheTierStats } from '@embedder-rag/core';
