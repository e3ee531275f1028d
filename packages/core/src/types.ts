/** Where inference runs. `auto` lets the backend pick the best device it has (GPU first, else CPU). */
export type Device = 'cpu' | 'cuda' | 'webgpu' | 'auto';

/** A device a session actually runs on. */
export type ResolvedDevice = Exclude<Device, 'auto'>;

/**
 * Weight precision: `fp32` (onnx/model.onnx); `q8`, row-wise int8 (onnx/model_q8_rowwise.onnx, made from the fp32
 * file on first use when the folder has none): a text's vector does not depend on its batch; `q8-dynamic`, the
 * published per-tensor int8 file (onnx/model_quantized.onnx): vectors change a little with the batch.
 */
export type Dtype = 'fp32' | 'q8' | 'q8-dynamic';

/**
 * How token vectors become one text vector (sentence-transformers' 1_Pooling/config.json): the first token, the
 * mean, the element-wise max, the sum over sqrt(token count), the mean weighted by position (1, 2, …), or the last
 * real token.
 */
export type PoolingMode = 'mean' | 'cls' | 'max' | 'mean_sqrt_len_tokens' | 'weightedmean' | 'lasttoken';

/** Every {@link PoolingMode}, for validation and messages. */
export const POOLING_MODES: readonly PoolingMode[] = ['cls', 'mean', 'max', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'];

/** Facts about where a chunk came from (the seed's ChunkMetadata). */
export interface ChunkMetadata {
  source: string;
  page?: number;
  section?: string;
  createdAt: Date;
  properties: Record<string, string>;
}

/** A piece of a document to embed (the seed's Chunk). */
export interface Chunk {
  id: string;
  content: string;
  metadata: ChunkMetadata;
  /** Filled by the generator; absent or undefined on input. */
  embedding?: Float32Array;
  /** @deprecated The seed's name of {@link Chunk.embedding}. */
  embeddings?: Float32Array;
  /** Ids of related chunks. */
  references: string[];
}

/** A chunk with its vector (the seed's EmbeddedChunk). */
export interface EmbeddedChunk extends Chunk {
  /** The chunk's vector: `embedding`, as the CLI's lines and the HTTP answers name it. */
  embedding: Float32Array;
  /** @deprecated The same array under the seed's name; use {@link EmbeddedChunk.embedding}. */
  embeddings: Float32Array;
}
