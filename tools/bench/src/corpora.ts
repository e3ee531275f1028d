import { readFileSync } from 'node:fs';
import { sharedFile } from '@embedder-rag/test-fixtures';

/** The benchmark corpora of ../shared/data/bench (see its MANIFEST.md). */
export type CorpusName = 'short' | 'mixed';

/** short.txt: 3,000 sentences (5–53 word pieces); mixed.jsonl: 1,000 chunks (6–767 word pieces). `limit` keeps the first N. */
export function loadCorpus(name: CorpusName, limit?: number): string[] {
  const texts =
    name === 'short'
      ? readFileSync(sharedFile('data/bench/short.txt'), 'utf8').split('\n').filter((line) => line.length > 0)
      : readFileSync(sharedFile('data/bench/mixed.jsonl'), 'utf8')
          .split('\n')
          .filter((line) => line.trim().length > 0)
          .map((line) => (JSON.parse(line) as { text: string }).text);
  return limit === undefined ? texts : texts.slice(0, limit);
}
