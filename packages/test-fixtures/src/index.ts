export { repoRoot, sharedDir, modelRoot, modelDir, sharedFile, readJsonl } from './paths';
export {
  loadMiniLmReference,
  loadTinyBertReference,
  cosine,
  maxAbsDiff,
  type ReferenceRow,
  type TinyBertReferenceRow,
} from './reference';
export { embedderFailure } from './errors';
export { startRedis, freePort, type TestRedis } from './redis';
