import { EmbedderError, type ModelSpec } from '@embedder-rag/core';
import type { EncoderFamily } from '../encoder-family';
import { bertFamily } from './bert';
import { mpnetFamily } from './mpnet';
import { t5Family } from './t5';
import { xlmRobertaFamily } from './xlm-roberta';

/** The encoder architectures the tfjs backend runs. A new one: a file exporting an EncoderFamily, listed here. */
export const ENCODER_FAMILIES: readonly EncoderFamily[] = [bertFamily, xlmRobertaFamily, mpnetFamily, t5Family];

/** Every config.json `model_type` the tfjs backend runs. */
export function supportedModelTypes(): string[] {
  return ENCODER_FAMILIES.flatMap((family) => family.modelTypes);
}

/**
 * The family that runs a model, by config.json `model_type`.
 * @throws EmbedderError UNSUPPORTED naming the model_type and the ones the tfjs backend has.
 */
export function encoderFamilyFor(model: ModelSpec): EncoderFamily {
  const modelType = String(model.config.model_type ?? model.architecture);
  const family = ENCODER_FAMILIES.find((candidate) => candidate.modelTypes.includes(modelType));
  if (!family) {
    const supported = supportedModelTypes();
    throw new EmbedderError('UNSUPPORTED', `the tfjs backend has no encoder for model_type '${modelType}' (${model.dir}); it runs ${supported.join(', ')}`, {
      details: { dir: model.dir, modelType, supported },
    });
  }
  return family;
}
