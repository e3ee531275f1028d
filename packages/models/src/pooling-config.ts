import { EmbedderError, type PoolingMode } from '@embedder-rag/core';
import type { JsonObject } from './json-file';

/** What a 1_Pooling/config.json says. */
export interface PoolingConfig {
  mode: PoolingMode;
  /** `word_embedding_dimension` / `embedding_dimension`, when given. */
  dimension?: number;
}

const SUPPORTED: Readonly<Record<string, PoolingMode>> = { cls: 'cls', mean: 'mean', max: 'max' };

// The classic boolean keys and the mode each one turns on.
const CLASSIC_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_max_tokens', 'max'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'],
  ['pooling_mode_weightedmean_tokens', 'weightedmean'],
  ['pooling_mode_lasttoken', 'lasttoken'],
];

/**
 * Reads the pooling mode from a sentence-transformers Pooling config: the newer `"pooling_mode": "cls"` string or
 * the classic `pooling_mode_*` booleans. Throws UNSUPPORTED naming `file` for modes embedder does not run (mean of
 * sqrt length, weighted mean, last token, several modes concatenated) and MODEL_INVALID when no mode is set.
 */
export function parsePoolingConfig(config: JsonObject, file: string): PoolingConfig {
  const dimensionValue = config.word_embedding_dimension ?? config.embedding_dimension;
  const dimension = typeof dimensionValue === 'number' && dimensionValue > 0 ? dimensionValue : undefined;
  let modes: string[];
  if (typeof config.pooling_mode === 'string') {
    modes = [config.pooling_mode];
  } else {
    modes = CLASSIC_KEYS.filter(([key]) => config[key] === true).map(([, mode]) => mode);
  }
  if (modes.length === 0) {
    throw new EmbedderError('MODEL_INVALID', `${file} sets no pooling mode`, { details: { file } });
  }
  if (modes.length > 1) {
    throw new EmbedderError(
      'UNSUPPORTED',
      `${file} concatenates several pooling modes (${modes.join(' + ')}); embedder supports one of cls, mean, max`,
      { details: { file, modes } },
    );
  }
  const wanted = modes[0] as string;
  const mode = SUPPORTED[wanted];
  if (mode === undefined) {
    throw new EmbedderError(
      'UNSUPPORTED',
      `${file} asks for pooling mode '${wanted}'; embedder supports cls, mean and max`,
      { details: { file, mode: wanted } },
    );
  }
  return dimension === undefined ? { mode } : { mode, dimension };
}
