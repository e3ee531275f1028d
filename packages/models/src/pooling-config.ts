import { EmbedderError, POOLING_MODES, type PoolingMode } from '@embedder-rag/core';
import type { JsonObject } from './json-file';

/** What a 1_Pooling/config.json says. */
export interface PoolingConfig {
  mode: PoolingMode;
  /** `word_embedding_dimension` / `embedding_dimension`, when given. */
  dimension?: number;
  /** Whether prompt tokens count in pooling (`include_prompt`, default true). */
  includePrompt: boolean;
}

// The newer format's names of the classic modes (sentence-transformers accepts both spellings).
const ALIASES: Readonly<Record<string, PoolingMode>> = { cls_token: 'cls', mean_tokens: 'mean', max_tokens: 'max', weightedmean_tokens: 'weightedmean' };

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
 * the classic `pooling_mode_*` booleans, and `include_prompt`. Throws MODEL_INVALID naming `file` and the field for
 * an unknown mode or none, UNSUPPORTED for several modes concatenated.
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
      `${file} concatenates several pooling modes (${modes.join(' + ')}); embedder runs one of ${POOLING_MODES.join(', ')}`,
      { details: { file, modes } },
    );
  }
  const wanted = modes[0] as string;
  const mode = (POOLING_MODES as readonly string[]).includes(wanted) ? (wanted as PoolingMode) : ALIASES[wanted];
  if (mode === undefined) {
    throw new EmbedderError(
      'MODEL_INVALID',
      `${file}: "pooling_mode" '${wanted}' is not a pooling mode; known: ${POOLING_MODES.join(', ')}`,
      { details: { file, field: 'pooling_mode', mode: wanted } },
    );
  }
  const includePrompt = config.include_prompt !== false;
  return dimension === undefined ? { mode, includePrompt } : { mode, dimension, includePrompt };
}
