import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedFile } from '@embedder-rag/test-fixtures';
import { parseLines, runCli, spawnCli, type EmbeddingLine } from './run-cli.test-util';

const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 150 one-line sentences, then 50 long chunks: by bytes the first three quarters of the texts are a small part of
// the file, so a bar on bytes would show far less than 75% when 150 of 200 are done.
const sentences = readFileSync(sharedFile('data/bench/short.txt'), 'utf8').split('\n').filter((line) => line !== '');
const chunks = readFileSync(sharedFile('data/bench/mixed.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => (JSON.parse(line) as { text: string }).text)
  .sort((a, b) => b.length - a.length);
const texts = [...sentences.slice(0, 150), ...chunks.slice(0, 50)];
const input = join(dir, 'input.jsonl');
// Blank lines are no texts: the count must skip them as the reader does.
writeFileSync(input, texts.map((text, i) => `${JSON.stringify({ id: i, text })}\n${i % 50 === 0 ? '\n' : ''}`).join(''));

/** The bar's lines (cli-progress writes one every few seconds when stderr is no terminal, and one at the end). */
function barLines(stderr: string): { percent: number; done: number; total: number }[] {
  return [...stderr.matchAll(/ (\d+)% \| (\d+)\/(\d+) embeddings \| \d+\/s \| ETA /g)].map((m) => ({
    percent: Number(m[1]),
    done: Number(m[2]),
    total: Number(m[3]),
  }));
}

describe('embedder embed progress', () => {
  it('--progress: the bar counts embeddings of the texts on stderr; stdout holds only the JSON lines', async () => {
    const run = await runCli(['embed', '--input', input, '--progress', '--batch-size', '4']);
    expect(run.code).toBe(0);
    const lines = parseLines<EmbeddingLine>(run.stdout);
    expect(lines.map((line) => line.id)).toEqual(texts.map((_, i) => i));
    const bars = barLines(run.stderr);
    expect(bars.length).toBeGreaterThan(0);
    for (const bar of bars) {
      expect(bar.total).toBe(200);
      expect(bar.percent).toBe(Math.floor((bar.done / 200) * 100));
    }
    expect(bars.at(-1)).toEqual({ percent: 100, done: 200, total: 200 });
  }, 300_000);

  it('no bar when stderr is no terminal and --progress is not given, nor with --no-progress', async () => {
    for (const flags of [[], ['--no-progress']]) {
      const run = await runCli(['embed', 'Hello, world!', ...flags]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    }
  });

  it('SIGINT midway: whole lines kept, exit 130, one line saying --resume continues; --resume then completes the run', async () => {
    const output = join(dir, 'interrupted.jsonl');
    const flags = ['embed', '--input', input, '--output', output, '--batch-size', '1'];
    const child = spawnCli(flags);
    child.stdin!.end();
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = once(child, 'exit');
    for (let i = 0; i < 8000 && !(existsSync(output) && statSync(output).size > 0); i++) await sleep(25);
    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    const written = readFileSync(output, 'utf8');
    const done = parseLines<EmbeddingLine>(written).length;
    expect(code).toBe(130);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(200);
    expect(stderr).toBe(`embedder: SIGINT: stopped after ${done} of 200 embeddings; run the same command with --resume to continue after line ${done}\n`);

    const resumed = await runCli([...flags, '--resume']);
    expect(resumed.code).toBe(0);
    expect(parseLines<EmbeddingLine>(readFileSync(output, 'utf8')).map((line) => line.id)).toEqual(texts.map((_, i) => i));
  }, 300_000);
});
