import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference } from '@embedder-rag/test-fixtures';
import { parseLines, runCli } from './run-cli.test-util';

const reference = loadMiniLmReference().filter((row) => row.kind === 'short');
const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-similarity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RankLine {
  rank: number;
  index: number;
  score: number;
  text: string;
}

describe('embedder similarity (issue 6)', () => {
  it('prints the cosine of two texts', async () => {
    const [a, b] = [reference[0]!, reference[1]!];
    const run = await runCli(['similarity', a.text, b.text]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^-?\d\.\d+(e-?\d+)?\n$/);
    expect(Number(run.stdout)).toBeCloseTo(cosine(a.embedding, b.embedding), 5);
  });

  it('ranks the texts of a file against a query as the reference vectors do', async () => {
    const candidates = reference.slice(0, 60);
    const file = join(dir, 'candidates.txt');
    writeFileSync(file, `${candidates.map((row) => row.text).join('\n')}\n`);
    const query = reference[70]!;
    const run = await runCli(['similarity', query.text, '--input', file, '--top-k', '5']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = parseLines<RankLine>(run.stdout);
    const expected = candidates
      .map((row, index) => ({ index, score: cosine(query.embedding, row.embedding) }))
      .sort((x, y) => y.score - x.score)
      .slice(0, 5);
    expect(lines.map((line) => line.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(lines.map((line) => line.index)).toEqual(expected.map((hit) => hit.index));
    lines.forEach((line, i) => {
      expect(line.score).toBeCloseTo(expected[i]!.score, 5);
      expect(line.text).toBe(candidates[line.index]!.text);
      expect(Object.keys(line)).toEqual(['rank', 'index', 'score', 'text']);
    });
  });

  it('finds a text itself first, and rejects a wrong number of texts', async () => {
    const file = join(dir, 'self.jsonl');
    writeFileSync(file, reference.slice(0, 20).map((row) => JSON.stringify({ id: row.id, text: row.text })).join('\n'));
    const run = await runCli(['similarity', reference[7]!.text, '--input', file, '-k', '1']);
    const [top] = parseLines<RankLine & { id: number }>(run.stdout);
    expect(top).toMatchObject({ rank: 1, index: 7, id: reference[7]!.id });
    expect(top!.score).toBeGreaterThan(0.99999);

    const three = await runCli(['similarity', 'a', 'b', 'c']);
    expect(three.code).toBe(2);
    expect(three.stderr).toBe('embedder: INVALID_CONFIG: give two texts to compare (or one query and --input FILE), got 3\n');
  });
});
