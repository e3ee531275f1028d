import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILY_FIXTURES, loadFamilyReference, loadTinyBertReference, maxAbsDiff, modelDir, TINY_BERT_POOLINGS } from '@embedder-rag/test-fixtures';
import { parseLines, runCli, type EmbeddingLine } from './run-cli.test-util';

const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-families-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Embeds texts with the CLI from a JSONL file; returns the vectors in input order. */
async function cliVectors(model: string, texts: string[], extra: string[] = []): Promise<number[][]> {
  const file = join(dir, `input-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
  const run = await runCli(['embed', '--model', model, '--input', file, ...extra]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const lines = parseLines<EmbeddingLine>(run.stdout);
  expect(lines.map((line) => line.index)).toEqual(texts.map((_, i) => i));
  return lines.map((line) => line.embedding);
}

describe('embedder embed --model <fixture folder> gives the reference vectors (issue 16)', () => {
  it.each(FAMILY_FIXTURES)('%s, prompt rows with --prompt-name', async (fixture) => {
    // The library refuses "" (INVALID_INPUT); the backend conformance suite covers those rows.
    const rows = loadFamilyReference(fixture).filter((row) => row.text !== '');
    const folder = modelDir(`test-fixtures/${fixture}`);
    let worst = 0;
    const plain = rows.filter((row) => !row.prompt_name);
    const vectors = await cliVectors(folder, plain.map((row) => row.text));
    plain.forEach((row, i) => (worst = Math.max(worst, maxAbsDiff(vectors[i]!, row.embedding))));
    for (const name of new Set(rows.flatMap((row) => (row.prompt_name ? [row.prompt_name] : [])))) {
      const prompted = rows.filter((row) => row.prompt_name === name);
      const promptedVectors = await cliVectors(folder, prompted.map((row) => row.text), ['--prompt-name', name]);
      prompted.forEach((row, i) => (worst = Math.max(worst, maxAbsDiff(promptedVectors[i]!, row.embedding))));
    }
    console.info(`[cli families] ${fixture}: ${rows.length} rows, worst max abs diff ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it.each(TINY_BERT_POOLINGS)('tiny-bert with %s pooling', async (pooling) => {
    const source = modelDir('test-fixtures/tiny-bert');
    const folder = join(dir, `tiny-bert-${pooling}`);
    mkdirSync(join(folder, '1_Pooling'), { recursive: true });
    for (const entry of readdirSync(source)) if (entry !== '1_Pooling') symlinkSync(join(source, entry), join(folder, entry));
    writeFileSync(join(folder, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 16, pooling_mode: pooling }));
    const rows = loadTinyBertReference();
    const vectors = await cliVectors(folder, rows.map((row) => row.text));
    expect(Math.max(...rows.map((row, i) => maxAbsDiff(vectors[i]!, row[pooling])))).toBeLessThanOrEqual(1e-5);
  });

  it('refuses an unknown --prompt-name with INVALID_INPUT naming the prompts', async () => {
    const run = await runCli(['embed', '--model', modelDir('test-fixtures/tiny-xlm-roberta'), '--prompt-name', 'document', 'hello']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('INVALID_INPUT');
    expect(run.stderr).toContain('query, passage');
  });
});
