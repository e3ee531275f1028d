export { loadModelSpec, DEFAULT_MAX_SEQ_LENGTH, type ModelSpecMeta } from './model-spec';
export { resolveModel, type ResolveModelOptions, type ResolvedModel } from './resolve';
export type { DownloadProgress } from './blob-download';
export { hubCacheDir, repoCacheDir, type HubEnv } from './hub-cache';
export { readModules, moduleKind, type SentenceModule, type SentenceModuleKind } from './modules';
export { parsePoolingConfig, type PoolingConfig } from './pooling-config';
