export { repoRoot, sharedDir, modelRoot, modelDir, sharedFile, readJsonl } from './paths';
export {
  loadMiniLmReference,
  loadTinyBertReference,
  loadFamilyReference,
  FAMILY_FIXTURES,
  TINY_BERT_POOLINGS,
  type TinyBertPooling,
  type FamilyReferenceRow,
  cosine,
  maxAbsDiff,
  type ReferenceRow,
  type TinyBertReferenceRow,
} from './reference';
export { embedderFailure } from './errors';
export { startRedis, freePort, type TestRedis } from './redis';
