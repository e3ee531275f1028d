import { join } from 'node:path';
import { EmbedderError } from '@embedder-rag/core';
import { readJsonIfExists } from './json-file';

/** The kinds of sentence-transformers module embedder understands; anything else is `other`. */
export type SentenceModuleKind = 'transformer' | 'pooling' | 'dense' | 'normalize' | 'other';

/** One entry of a sentence-transformers `modules.json`. */
export interface SentenceModule {
  /** Folder of the module relative to the model folder ('' for the transformer itself). */
  path: string;
  /** The Python class path, e.g. `sentence_transformers.models.Pooling`. */
  type: string;
  kind: SentenceModuleKind;
}

// Class paths changed over sentence-transformers versions (`sentence_transformers.models.Pooling`,
// `sentence_transformers.base.modules.normalize.Normalize`, `…sentence_transformer.modules.pooling.Pooling`), but the
// class name, the last segment, stayed the same.
const KINDS: Readonly<Record<string, SentenceModuleKind>> = {
  Transformer: 'transformer',
  Pooling: 'pooling',
  Dense: 'dense',
  Normalize: 'normalize',
};

/** The kind of a module from its class path. */
export function moduleKind(type: string): SentenceModuleKind {
  return KINDS[type.split('.').pop() ?? ''] ?? 'other';
}

/**
 * Reads `<dir>/modules.json`. Returns undefined when the folder has none (a plain Hugging Face model); throws
 * MODEL_INVALID naming the file when it is malformed.
 */
export async function readModules(dir: string): Promise<SentenceModule[] | undefined> {
  const file = join(dir, 'modules.json');
  const raw = await readJsonIfExists<unknown[]>(file, 'array');
  if (raw === undefined) return undefined;
  return raw.map((entry, index) => {
    const candidate = entry as { path?: unknown; type?: unknown } | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.type !== 'string') {
      throw new EmbedderError('MODEL_INVALID', `${file}: entry ${index} has no "type" string`, {
        details: { file, index },
      });
    }
    const path = typeof candidate.path === 'string' ? candidate.path : '';
    return { path, type: candidate.type, kind: moduleKind(candidate.type) };
  });
}

/** The Pooling module's config file, relative to the model folder (`1_Pooling/config.json` by default). */
export function poolingConfigPath(modules: readonly SentenceModule[] | undefined): string {
  const pooling = modules?.find((module) => module.kind === 'pooling');
  return `${pooling && pooling.path !== '' ? pooling.path : '1_Pooling'}/config.json`;
}
