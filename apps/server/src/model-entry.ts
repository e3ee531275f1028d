import { EmbedderError, MODEL_SETTINGS, findBuiltinModel, type Dtype } from '@embedder-rag/core';

/** The dtypes a model setting accepts (core's list of settings is the one source). */
export const DTYPES = (MODEL_SETTINGS.find((setting) => setting.key === 'dtype')!.kind as { values: readonly Dtype[] }).values;

/** One EMBEDDER_MODELS entry: the model to load and, for `name@dtype`, the dtype it is served with. */
export interface ModelEntry {
  /** The model as the library resolves it: a built-in name, a repo id or a folder path. */
  model: string;
  /** From `@dtype`; absent = the server's dtype setting (EMBEDDER_DTYPE). */
  dtype?: Dtype;
}

/**
 * Reads an EMBEDDER_MODELS entry: `name`, or `name@dtype` to serve that model with its own dtype (`all-minilm-l6-v2,
 * all-minilm-l6-v2@q8` serves both). The text after the last `@` is a dtype unless it holds a path separator (a folder
 * such as `/models/v2@2024/minilm` is a name). An unknown or empty dtype, or an empty name, is INVALID_CONFIG naming
 * `source` (the variable or flag the entry came from) and the accepted dtypes.
 */
export function parseModelEntry(entry: string, source = 'EMBEDDER_MODELS'): ModelEntry {
  const at = entry.lastIndexOf('@');
  const suffix = entry.slice(at + 1);
  if (at < 0 || /[/\\]/.test(suffix)) return { model: entry };
  const model = entry.slice(0, at).trim();
  const dtype = suffix.trim();
  const details = { variable: source, entry, accepted: DTYPES };
  if (model === '') {
    throw new EmbedderError('INVALID_CONFIG', `${source} entry '${entry}' has no model name before '@' (write name@dtype, e.g. all-minilm-l6-v2@q8)`, { details });
  }
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    const what = dtype === '' ? 'no dtype' : `unknown dtype '${dtype}'`;
    throw new EmbedderError('INVALID_CONFIG', `${source} entry '${entry}' has ${what} after '@' (accepted: ${DTYPES.join(', ')})`, { details });
  }
  return { model, dtype: dtype as Dtype };
}

/**
 * Which model thread an entry loads into: entries of one model (its dtypes) share one, keyed by the built-in id,
 * else the model as written (the same folder named once by id and once by path gets two threads).
 */
export function modelThreadKey(entry: ModelEntry): string {
  return findBuiltinModel(entry.model)?.id ?? entry.model;
}
