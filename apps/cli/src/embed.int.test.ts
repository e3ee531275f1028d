import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference } from '@embedder-rag/test-fixtures';
import { parseLines, runCli, type EmbeddingLine } from './run-cli.test-util';

const reference = loadMiniLmReference();
const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-embed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// JSONL, not plain text: the reference texts hold newlines, tabs and control characters.
const referenceFile = join(dir, 'reference.jsonl');
writeFileSync(referenceFile, reference.map((row) => `${JSON.stringify({ id: `ref-${row.id}`, text: row.text })}\n`).join(''));

function minimumCosine(lines: EmbeddingLine[]): { min: number; worstId: unknown } {
  let min = Infinity;
  let worstId: unknown;
  for (const [i, line] of lines.entries()) {
    const score = cosine(line.embedding, reference[i]!.embedding);
    if (score < min) {
      min = score;
      worstId = line.id;
    }
  }
  return { min, worstId };
}

function expectInOrder(lines: EmbeddingLine[]): void {
  expect(lines.length).toBe(reference.length);
  expect(lines.map((line) => line.index)).toEqual(reference.map((_, i) => i));
  expect(lines.map((line) => line.id)).toEqual(reference.map((row) => `ref-${row.id}`));
  for (const line of lines) expect(line.embedding.length).toBe(384);
}

describe('embedder embed against the sentence-transformers reference (issue 4)', () => {
  it('matches all 230 reference vectors embedded together in one file (cosine >= 0.99999)', async () => {
    const run = await runCli(['embed', '--input', referenceFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = parseLines<EmbeddingLine>(run.stdout);
    expectInOrder(lines);
    const { min, worstId } = minimumCosine(lines);
    console.info(`cli embed, 230 texts in one run: minimum cosine ${min} (1 - min = ${(1 - min).toExponential(2)}) (${String(worstId)})`);
    expect(min).toBeGreaterThanOrEqual(0.99999);
  });

  it('matches them embedded alone (--batch-size 1 puts each text in its own batch)', async () => {
    const output = join(dir, 'alone.jsonl');
    const run = await runCli(['embed', '--input', referenceFile, '--batch-size', '1', '--output', output, '--verbose']);
    // --verbose logs the generator's stats when done: one inference batch per text.
    expect(run.stderr).toMatch(/^embedder info: done .*"totalBatches":230,/m);
    expect(run.stderr).not.toMatch(/^embedder: /m);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    const lines = parseLines<EmbeddingLine>(readFileSync(output, 'utf8'));
    expectInOrder(lines);
    const { min, worstId } = minimumCosine(lines);
    console.info(`cli embed --batch-size 1: minimum cosine ${min} (1 - min = ${(1 - min).toExponential(2)}) (${String(worstId)})`);
    expect(min).toBeGreaterThanOrEqual(0.99999);
  }, 300_000);
});

describe('embedder embed inputs and flags', () => {
  const short = reference.filter((row) => row.kind === 'short').slice(0, 5);

  it('takes texts as arguments, as a plain-text file and on stdin, with the same vectors', async () => {
    const texts = short.map((row) => row.text);
    const textFile = join(dir, 'short.txt');
    writeFileSync(textFile, `${texts.join('\r\n')}\r\n`);
    const fromArgs = await runCli(['embed', ...texts]);
    const fromFile = await runCli(['embed', '--input', textFile]);
    const fromStdin = await runCli(['embed', '--input', '-', '--format', 'text'], { stdin: texts.join('\n') });
    for (const run of [fromArgs, fromFile, fromStdin]) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const lines = parseLines<EmbeddingLine>(run.stdout);
      expect(lines.map((line) => line.index)).toEqual([0, 1, 2, 3, 4]);
      lines.forEach((line, i) => expect(cosine(line.embedding, short[i]!.embedding)).toBeGreaterThanOrEqual(0.99999));
      expect(Object.keys(lines[0]!)).toEqual(['index', 'embedding']);
    }
  });

  it('reads a content field and a .ndjson extension, and --no-normalize leaves vectors unnormalised', async () => {
    const file = join(dir, 'content.ndjson');
    writeFileSync(file, short.map((row) => JSON.stringify({ content: row.text })).join('\n'));
    const normalised = parseLines<EmbeddingLine>((await runCli(['embed', '--input', file])).stdout);
    const raw = await runCli(['embed', '--input', file, '--no-normalize']);
    expect(raw.code).toBe(0);
    const rawLines = parseLines<EmbeddingLine>(raw.stdout);
    const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    for (const [i, line] of rawLines.entries()) {
      expect(Math.abs(norm(normalised[i]!.embedding) - 1)).toBeLessThan(1e-5);
      expect(Math.abs(norm(line.embedding) - 1)).toBeGreaterThan(1e-3);
      expect(cosine(line.embedding, short[i]!.embedding)).toBeGreaterThanOrEqual(0.99999);
    }
  });

  it('runs the int8 model with --dtype q8 (close to, not equal to, fp32)', async () => {
    const run = await runCli(['embed', '--dtype', 'q8', ...short.map((row) => row.text)]);
    expect(run.code).toBe(0);
    const lines = parseLines<EmbeddingLine>(run.stdout);
    for (const [i, line] of lines.entries()) {
      const score = cosine(line.embedding, short[i]!.embedding);
      expect(score).toBeGreaterThan(0.95);
      expect(score).toBeLessThan(0.9999999);
    }
  });
});
