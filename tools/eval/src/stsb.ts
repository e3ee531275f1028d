import { readFileSync } from 'node:fs';
import { EmbedderError } from '@embedder-rag/core';

/** One STS-B pair with its gold similarity (0–5). */
export interface StsPair {
  sentence1: string;
  sentence2: string;
  score: number;
}

/**
 * Reads an STS-B file in the original release format: tab-separated, no header, columns genre, filename, year, id,
 * score, sentence1, sentence2 (then optional attribution). Split on tabs only: quotes are part of the sentences.
 * @throws EmbedderError INVALID_INPUT naming the file and line of a malformed row.
 */
export function loadStsb(file: string): StsPair[] {
  const pairs: StsPair[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const fields = line.split('\t');
    const score = Number(fields[4]);
    const sentence1 = fields[5];
    const sentence2 = fields[6];
    if (fields.length < 7 || !Number.isFinite(score) || !sentence1 || !sentence2) {
      throw new EmbedderError('INVALID_INPUT', `${file}:${i + 1}: expected 7+ tab-separated fields with a numeric score`, {
        details: { file, line: i + 1 },
      });
    }
    pairs.push({ sentence1, sentence2, score });
  });
  return pairs;
}
