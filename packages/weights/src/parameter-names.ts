import { EmbedderError } from '@embedder-rag/core';
import type { WeightSet } from './weight-set';

/**
 * Prefixes under which checkpoints store the encoder: `bert.` in BertForMaskedLM / BertForPreTraining files,
 * `roberta.` in (XLM-)RobertaForMaskedLM ones (xlm-roberta-base), `mpnet.` in MPNetForMaskedLM ones.
 */
const PREFIXES = ['', 'bert.', 'roberta.', 'mpnet.'] as const;

/**
 * Stored names a canonical (unprefixed, HF BertModel) parameter name may have: plain, `bert.`-prefixed, and with the
 * old TensorFlow-era LayerNorm names `gamma`/`beta` for `weight`/`bias`. Best first.
 */
export function parameterNameCandidates(name: string): string[] {
  const spellings = [name];
  if (/LayerNorm\.weight$/.test(name)) spellings.push(name.replace(/weight$/, 'gamma'));
  if (/LayerNorm\.bias$/.test(name)) spellings.push(name.replace(/bias$/, 'beta'));
  return PREFIXES.flatMap((prefix) => spellings.map((spelling) => prefix + spelling));
}

/** The stored name of a canonical parameter, or undefined when the file has none of its spellings. */
export function findParameter(weights: WeightSet, name: string): string | undefined {
  return parameterNameCandidates(name).find((candidate) => weights.has(candidate));
}

/**
 * Reads a parameter by its canonical name as float32, checking its shape. Tensors not asked for (MLM heads,
 * pooler, position_ids) are simply never read.
 * @throws EmbedderError WEIGHTS_INVALID naming the tensor (and the spellings tried) when it is missing, or
 * when its shape or dtype is wrong, or the file is cut inside it.
 */
export function readParameter(weights: WeightSet, name: string, shape: readonly number[]): Float32Array {
  const stored = findParameter(weights, name);
  if (stored === undefined) {
    const tried = parameterNameCandidates(name);
    throw new EmbedderError('WEIGHTS_INVALID', `tensor '${name}' is missing from ${weights.file} (looked for ${tried.join(', ')})`, {
      details: { file: weights.file, tensor: name, tried },
    });
  }
  return weights.float32(stored, shape);
}
