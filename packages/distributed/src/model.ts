import { createHash } from 'node:crypto';
import { EmbedderError, type EmbeddingHost } from '@embedder-rag/core';
import { cacheKey } from '@embedder-rag/cache';

/** Everything about the model that changes a vector: a queue holds vectors of exactly one of these. */
export interface ModelIdentity {
  /** Hub repo id, else the model folder's name. */
  modelId: string;
  dtype: string;
  dimension: number;
  pooling: string;
  normalize: boolean;
  maxSeqLength: number;
}

/**
 * What the distributed mode needs of core's EmbeddingHost (the facade's EmbeddingGenerator is one): the model's
 * identity, the settings (`normalize` there wins over the model's default, --no-normalize), embed and countTokens.
 */
export type EmbeddingEngine = Pick<EmbeddingHost, 'model' | 'settings' | 'embed' | 'countTokens'>;

/** The identity of the model an engine serves. */
export function identityOf(engine: Pick<EmbeddingEngine, 'model' | 'settings'>): ModelIdentity {
  const { model } = engine;
  return {
    modelId: model.repoId ?? model.id,
    dtype: model.dtype,
    dimension: model.dimension,
    pooling: model.pooling,
    // The config's choice, else the model's pipeline (a Normalize module), as the generator decides.
    normalize: engine.settings.normalize ?? model.normalize,
    maxSeqLength: model.maxSeqLength,
  };
}

/** A short stable digest of an identity (jobs carry it; a worker compares it with its own). */
export function identityDigest(identity: ModelIdentity): string {
  const canonical = JSON.stringify([identity.modelId, identity.dtype, identity.dimension, identity.pooling, identity.normalize, identity.maxSeqLength]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** One line naming an identity, for errors and `queue status`. */
export function describeIdentity(identity: ModelIdentity): string {
  return `${identity.modelId} ${identity.dtype} dim ${identity.dimension}`;
}

/** Throws MODEL_MISMATCH when `found` (recorded by the queue) differs from `expected` (served by this process). */
export function assertSameModel(queue: string, recorded: ModelIdentity, served: ModelIdentity): void {
  if (identityDigest(recorded) === identityDigest(served)) return;
  throw new EmbedderError(
    'MODEL_MISMATCH',
    `queue '${queue}' holds jobs for ${describeIdentity(recorded)}, but this process serves ${describeIdentity(served)}: ` +
      'start it with the same --model and --dtype, or clean the queue (embedder queue clean)',
    { details: { queue, recorded, served } },
  );
}

/**
 * The sink key of a text: cache's key function over the model identity and the prompt put before the text ('' =
 * none, the key of a run without prompts). The weights fingerprint is left out (it includes the file's mtime, which
 * differs between machines holding the same weights); the identity check on every worker stands in for it.
 */
export function chunkKey(identity: ModelIdentity, text: string, prompt = ''): string {
  return cacheKey({
    modelId: identity.modelId,
    weightsFingerprint: 'distributed',
    dtype: identity.dtype,
    pooling: identity.pooling,
    normalize: identity.normalize,
    maxSeqLength: identity.maxSeqLength,
    truncate: true,
    truncationDirection: 'right',
    ...(prompt === '' ? {} : { prompt }),
    text,
  });
}
