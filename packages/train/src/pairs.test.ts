import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEmbedderError } from '@embedder-rag/core';
import { readPairs } from './pairs';
import { epochOrder } from './random';
import { spearman } from './evaluate';
import { warmupLinear, warmupSteps } from './optimizer';

const work = mkdtempSync(join(tmpdir(), 'embedder-pairs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

async function failure(path: string, requireScore = true): Promise<Error> {
  const error = await readPairs(path, { requireScore }).catch((caught: unknown) => caught);
  expect(isEmbedderError(error, 'INVALID_INPUT'), String(error)).toBe(true);
  return error as Error;
}

describe('readPairs', () => {
  it('reads STS-B rows (tab separated, score 0–5 in column 5, extra columns ignored) as score / 5', async () => {
    const pairs = await readPairs(
      file('sts.csv', 'main-captions\tMSRvid\t2012test\t0000\t5.000\tA man is dancing.\tA man dances.\nmain-news\theadlines\t2015\t0001\t1.250\tOne.\tTwo.\tsrc\tsrc\n'),
      { requireScore: true },
    );
    expect(pairs).toEqual([
      { sentence1: 'A man is dancing.', sentence2: 'A man dances.', score: 1, line: 1 },
      { sentence1: 'One.', sentence2: 'Two.', score: 0.25, line: 2 },
    ]);
  });

  it('reads jsonl (sentence1/sentence2/score, anchor/positive), tsv and quoted csv with a header', async () => {
    expect(await readPairs(file('a.jsonl', '{"sentence1":"a","sentence2":"b","score":0.5}\n\n{"anchor":"c","positive":"d"}\n'), { requireScore: false })).toEqual([
      { sentence1: 'a', sentence2: 'b', score: 0.5, line: 1 },
      { sentence1: 'c', sentence2: 'd', line: 3 },
    ]);
    expect(await readPairs(file('b.tsv', 'x\ty\t0.2\n'), { requireScore: true })).toEqual([{ sentence1: 'x', sentence2: 'y', score: 0.2, line: 1 }]);
    expect(await readPairs(file('c.csv', 'sentence1,sentence2,score\n"a, b","say ""hi""",1\n'), { requireScore: true })).toEqual([
      { sentence1: 'a, b', sentence2: 'say "hi"', score: 1, line: 2 },
    ]);
  });

  it('names the file and line of a malformed, empty or out-of-range row', async () => {
    expect((await failure(file('bad.jsonl', '{"sentence1":"a","sentence2":"b","score":0.5}\n{"sentence1":"a",\n'))).message).toMatch(/bad\.jsonl:2: not valid JSON/);
    expect((await failure(file('range.tsv', 'a\tb\t0.5\nc\td\t1.5\n'))).message).toMatch(/range\.tsv:2: score 1\.5 is outside \[0, 1\]/);
    expect((await failure(file('sts-range.csv', 'g\tf\ty\t1\t6.0\ta\tb\n'))).message).toMatch(/sts-range\.csv:1: STS-B score 6 is outside \[0, 5\]/);
    expect((await failure(file('empty-text.jsonl', '{"sentence1":"  ","sentence2":"b","score":1}\n'))).message).toMatch(/:1: the first text .* is missing or empty/);
    expect((await failure(file('columns.tsv', 'only one column\n'))).message).toMatch(/columns\.tsv:1: expected 2 columns/);
    expect((await failure(file('unscored.tsv', 'a\tb\n'))).message).toMatch(/unscored\.tsv:1: this pair has no score/);
    expect((await failure(file('empty.jsonl', '\n\n'))).message).toMatch(/holds no text pairs/);
    expect((await failure(join(work, 'missing.jsonl'))).message).toMatch(/cannot read/);
    expect((await failure(file('pairs.parquet', 'x'))).message).toMatch(/unknown pair format/);
  });
});

describe('training helpers', () => {
  it('shuffles deterministically per (seed, epoch), a permutation every time', () => {
    const a = epochOrder(100, 42, 0);
    expect(Array.from(epochOrder(100, 42, 0))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(100, 42, 1))).not.toEqual(Array.from(a));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('WarmupLinear as transformers: 0 at step 0, peak after warm-up, 0 at the end; ceil(total · ratio) warm-up steps', () => {
    expect(warmupSteps(94, 0.1)).toBe(10);
    expect(warmupLinear(0, 94, 10, 2e-5)).toBe(0);
    expect(warmupLinear(5, 94, 10, 2e-5)).toBeCloseTo(1e-5, 12);
    expect(warmupLinear(10, 94, 10, 2e-5)).toBeCloseTo(2e-5, 12);
    expect(warmupLinear(52, 94, 10, 2e-5)).toBeCloseTo(1e-5, 12);
    expect(warmupLinear(94, 94, 10, 2e-5)).toBe(0);
  });

  it('Spearman averages tied ranks (scipy.stats.spearmanr)', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]).statistic = 0.9486832980505138
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
  });
});
