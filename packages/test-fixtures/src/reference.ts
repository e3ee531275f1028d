import { join } from 'node:path';
import { modelDir, readJsonl, sharedFile } from './paths';

/** One row of ../shared/reference/all-MiniLM-L6-v2.jsonl (sentence-transformers output). */
export interface ReferenceRow {
  id: number;
  kind: 'short' | 'long' | 'edge';
  text: string;
  /** Word pieces including [CLS] and [SEP], after truncation at 256. */
  tokens: number;
  truncated: boolean;
  embedding: number[];
}

/** The pooling modes tiny-bert's reference.jsonl has vectors for. */
export type TinyBertPooling = 'mean' | 'cls' | 'max';
export const TINY_BERT_POOLINGS: readonly TinyBertPooling[] = ['mean', 'cls', 'max'];

/**
 * One row of a family fixture's reference.jsonl (tiny-sentence-t5, tiny-xlm-roberta, tiny-mpnet): sentence-transformers'
 * output for `text` (with the named prompt prepended when prompt_name is set): ids with specials after truncation, their
 * count, and the vector after the whole pipeline (pooling, Dense, Normalize).
 */
export interface FamilyReferenceRow {
  text: string;
  prompt_name?: string | null;
  input_ids: number[];
  tokens: number;
  embedding: number[];
}

/** The family fixtures under test-fixtures/, one per encoder family beyond BERT. */
export const FAMILY_FIXTURES = ['tiny-sentence-t5', 'tiny-xlm-roberta', 'tiny-mpnet'] as const;

/** A family fixture's reference rows. */
export function loadFamilyReference(fixture: string): FamilyReferenceRow[] {
  return readJsonl<FamilyReferenceRow>(join(modelDir(`test-fixtures/${fixture}`), 'reference.jsonl'));
}

/** One row of test-fixtures/tiny-bert/reference.jsonl. */
export interface TinyBertReferenceRow {
  text: string;
  input_ids: number[];
  tokens: number;
  mean: number[];
  cls: number[];
  max: number[];
}

/** The 230 reference texts and vectors of all-MiniLM-L6-v2. */
export function loadMiniLmReference(): ReferenceRow[] {
  return readJsonl<ReferenceRow>(sharedFile('reference/all-MiniLM-L6-v2.jsonl'));
}

/** The tiny-bert fixture's reference rows. */
export function loadTinyBertReference(): TinyBertReferenceRow[] {
  return readJsonl<TinyBertReferenceRow>(join(modelDir('test-fixtures/tiny-bert'), 'reference.jsonl'));
}

/** Cosine similarity in float64 (a reference implementation for assertions, independent of the product's). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
