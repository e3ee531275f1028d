export {
  cosineSimilarity,
  dotProduct,
  euclideanDistance,
  manhattanDistance,
  l2Norm,
  normalizeL2,
  normalizeL2InPlace,
  type Metric,
} from './metrics';
export { toMatrix, withNorms, type VectorMatrix, type Candidates } from './matrix';
export { batchCosineSimilarity, batchScores } from './batch';
export { findTopK, type ScoredIndex, type TopKOptions } from './top-k';
export { kmeans, simpleKmeansClustering, type KMeansOptions, type KMeansResult } from './kmeans';
export {
  quantizeInt8,
  dequantizeInt8,
  quantizeBinary,
  hammingDistance,
  type Int8Quantized,
  type QuantizeInt8Options,
} from './quantize';
