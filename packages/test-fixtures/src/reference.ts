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
