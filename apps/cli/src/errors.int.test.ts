import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelDir } from '@embedder-rag/test-fixtures';
import { cliEnv, runCli, type CliRun } from './run-cli.test-util';

const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const miniLm = modelDir('all-MiniLM-L6-v2');

/**
 * A copy of the all-MiniLM-L6-v2 folder in tmp: every file a symlink to the original (nothing large is copied),
 * except `omit` (left out) and `replace` (written with the given bytes).
 */
function modelCopy(name: string, change: { omit?: string[]; replace?: Record<string, Buffer> }): string {
  const target = join(dir, name, 'all-MiniLM-L6-v2');
  const link = (relative: string) => {
    for (const entry of readdirSync(join(miniLm, relative), { withFileTypes: true })) {
      const path = join(relative, entry.name);
      if (change.omit?.includes(path)) continue;
      if (entry.isDirectory()) {
        mkdirSync(join(target, path), { recursive: true });
        link(path);
      } else if (change.replace?.[path]) {
        writeFileSync(join(target, path), change.replace[path]);
      } else {
        symlinkSync(join(miniLm, path), join(target, path));
      }
    }
  };
  mkdirSync(target, { recursive: true });
  link('');
  return target;
}

function head(file: string, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, bytes, 0);
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** The failure contract: the exit code, one stderr line `embedder: CODE: message` naming the problem, no stack. */
function expectFailure(run: CliRun, exitCode: number, pattern: RegExp): void {
  expect(run.stdout).toBe('');
  expect(run.stderr.endsWith('\n')).toBe(true);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^embedder: [A-Z_]+: \S/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr.trimEnd()).toMatch(pattern);
  expect(run.code).toBe(exitCode);
}

function inputFile(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe('embedder embed: input errors exit non-zero with one line naming the problem', () => {
  it('an empty text argument', async () => {
    expectFailure(await runCli(['embed', 'ok', '']), 3, /^embedder: INVALID_INPUT: text argument 2 is empty$/);
  });

  it('an empty input file', async () => {
    const file = inputFile('empty.txt', '');
    expectFailure(await runCli(['embed', '--input', file]), 3, new RegExp(`INVALID_INPUT: input ${file} is empty`));
  });

  it('an empty line in a text file', async () => {
    const file = inputFile('blank-line.txt', 'one\ntwo\n\nfour\n');
    expectFailure(await runCli(['embed', '--input', file]), 3, /^embedder: INVALID_INPUT: input line 3 is empty$/);
  });

  it('a JSONL line without text or content', async () => {
    const file = inputFile('no-field.jsonl', '{"text":"a"}\n{"title":"b"}\n');
    expectFailure(await runCli(['embed', '--input', file]), 3, /INVALID_INPUT: input line 2 has no text or content field$/);
  });

  it('a JSONL line whose text is not a string', async () => {
    const file = inputFile('number.jsonl', '{"text":"a"}\n{"text":"b"}\n{"text":12}\n');
    expectFailure(await runCli(['embed', '--input', file]), 3, /INVALID_INPUT: input line 3: field text must be a string, got a number$/);
  });

  it('invalid JSON, naming the line', async () => {
    const file = inputFile('broken.jsonl', '{"text":"a"}\n{"text":"b"}\n{"text": "c\n');
    expectFailure(await runCli(['embed', '--input', file]), 3, /INVALID_INPUT: input line 3 is not valid JSON/);
  });

  it('a missing input file', async () => {
    expectFailure(await runCli(['embed', '--input', join(dir, 'nope.txt')]), 3, /INVALID_INPUT: input file .*nope\.txt not found$/);
  });
});

describe('embedder embed: model and config errors', () => {
  it('a missing model folder', async () => {
    const missing = join(dir, 'no-such-model');
    expectFailure(await runCli(['embed', '--model', missing, 'hello']), 4, /MODEL_NOT_FOUND: .*no-such-model/);
  });

  it('a model folder without tokenizer.json', async () => {
    const folder = modelCopy('no-tokenizer', { omit: ['tokenizer.json'] });
    expectFailure(await runCli(['embed', '--model', folder, 'hello']), 5, /(MODEL_INVALID|TOKENIZER_FAILED): .*tokenizer\.json/);
  });

  it('a truncated onnx/model.onnx', async () => {
    const onnx = join(miniLm, 'onnx', 'model.onnx');
    const folder = modelCopy('truncated-onnx', { replace: { [join('onnx', 'model.onnx')]: head(onnx, 1_000_000) } });
    expectFailure(await runCli(['embed', '--model', folder, 'hello']), 5, /MODEL_INVALID: .*model\.onnx/);
  });

  it('a corrupt onnx/model.onnx (bytes that are not a model)', async () => {
    const garbage = Buffer.alloc(200_000, 0xab);
    const folder = modelCopy('corrupt-onnx', { replace: { [join('onnx', 'model.onnx')]: garbage } });
    expectFailure(await runCli(['embed', '--model', folder, 'hello']), 5, /MODEL_INVALID: .*model\.onnx/);
  });

  it('an unknown dtype', async () => {
    expectFailure(await runCli(['embed', '--dtype', 'fp16', 'hello']), 2, /INVALID_CONFIG: .*--dtype.*'fp16'.*fp32, q8/);
  });

  it('a bad EMBEDDER_* variable', async () => {
    const run = await runCli(['embed', 'hello'], { env: cliEnv({ EMBEDDER_BATCH_SIZE: 'lots' }) });
    expectFailure(run, 2, /INVALID_CONFIG: EMBEDDER_BATCH_SIZE must be a whole number from 1 to 4096, got 'lots'$/);
  });

  it('a model name that resolves nowhere, with no network', async () => {
    const run = await runCli(['embed', '--model', 'nobody/no-such-model-anywhere', 'hello']);
    expectFailure(run, 4, /(MODEL_NOT_FOUND|DOWNLOAD_FAILED): .*nobody\/no-such-model-anywhere/);
  });

  it('--verbose adds the stack trace', async () => {
    const run = await runCli(['embed', '--verbose', '--model', join(dir, 'no-such-model'), 'hello']);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^embedder: MODEL_NOT_FOUND: /m);
    expect(run.stderr).toMatch(/\n\s+at /);
  });

  it('usage errors: unknown flag, --resume without --output', async () => {
    expectFailure(await runCli(['embed', '--frobnicate', 'x']), 2, /INVALID_CONFIG: unknown option '--frobnicate'/);
    expectFailure(await runCli(['embed', '--resume', 'x']), 2, /INVALID_CONFIG: --resume needs --output FILE$/);
  });
});
