export { loadStsb, type StsPair } from './stsb';
export { evaluateSts, type EmbedFunction, type StsResult } from './evaluate';
export { spearman, pearson, rank, cosineSimilarity } from './statistics';
export { PUBLISHED_STSB_SPEARMAN } from './published';
