import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { modelRoot, repoRoot } from '@embedder-rag/test-fixtures';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

// The examples run as written, on the built packages (`pnpm test` builds first).
describe('examples', () => {
  it('basic-usage.ts embeds three chunks and prints similarities and stats', async () => {
    const { stdout } = await run(process.execPath, ['basic-usage.ts'], {
      cwd: here,
      env: { ...process.env, EMBEDDER_MODEL_PATH: modelRoot(), HF_HUB_OFFLINE: '1' },
      timeout: 600_000, // a hang detector: a busy machine takes minutes
    });
    expect(stdout).toContain('Generated 3 embeddings of dimension 384');
    const [, related] = /similarity\(hello, greetings\) = ([\d.-]+)/.exec(stdout)!;
    const [, unrelated] = /similarity\(hello, invoice\)\s+= ([\d.-]+)/.exec(stdout)!;
    expect(Number(related)).toBeGreaterThan(Number(unrelated));
    expect(stdout).toMatch(/Average batch time: [\d.]+ms \(onnx, onnxruntime-node/);
  });

  it('pnpm example:batch reads and writes paths relative to the folder it is run in', async () => {
    // A folder inside the workspace, below the root: pnpm finds the root's scripts from there.
    const cwd = mkdtempSync(join(repoRoot, 'tmp-example-batch-'));
    try {
      writeFileSync(join(cwd, 'in.jsonl'), ['{"id":"a","text":"Hello, world!"}', '{"id":"b","text":"Greetings, planet Earth."}'].join('\n'));
      await run('pnpm', ['-s', 'example:batch', 'in.jsonl', 'out.jsonl'], { cwd, env: { ...process.env, EMBEDDER_MODEL_PATH: modelRoot() } });
      const lines = readFileSync(join(cwd, 'out.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; embedding: number[] });
      expect(lines.map((line) => [line.id, line.embedding.length])).toEqual([['a', 384], ['b', 384]]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('a missing input, an unwritable output or no model: one line, exit 1, no stack trace', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'embedder-example-'));
    mkdirSync(join(empty, 'hub'));
    try {
      const env = { ...process.env, EMBEDDER_MODEL_PATH: modelRoot() };
      const noModel = { ...process.env, EMBEDDER_MODEL_PATH: empty, HF_HUB_CACHE: join(empty, 'hub'), HF_HUB_OFFLINE: '1' };
      const cases: [string[], NodeJS.ProcessEnv, string][] = [
        [['batch-processing.ts', join(empty, 'missing.jsonl')], env, `example: ENOENT: no such file or directory, open '${join(empty, 'missing.jsonl')}'`],
        [['batch-processing.ts', join(here, 'package.json'), join(empty, 'no', 'out.jsonl')], env, `example: ENOENT: no such file or directory, open '${join(empty, 'no', 'out.jsonl')}'`],
        [['basic-usage.ts'], noModel, `example: MODEL_NOT_FOUND: model 'all-minilm-l6-v2' was not found locally (looked in: ${join(empty, 'all-minilm-l6-v2')}`],
      ];
      for (const [args, caseEnv, expected] of cases) {
        const failure = await run(process.execPath, args, { cwd: here, env: caseEnv }).then(
          () => undefined,
          (error: { code: number; stderr: string }) => error,
        );
        expect(failure?.code).toBe(1);
        const errorLines = failure!.stderr.split('\n').filter((line) => line.startsWith('example:'));
        expect(errorLines).toEqual([expect.stringContaining(expected)]);
        expect(failure!.stderr).not.toMatch(/^\s+at /m);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('model-comparison.ts runs every family fixture through its own pipeline on the same texts', async () => {
    const { stdout } = await run(process.execPath, ['model-comparison.ts'], {
      cwd: here,
      // tfjs weights are pointed at an empty folder so that variant is skipped quickly, offline.
      env: { ...process.env, EMBEDDER_MODEL_PATH: modelRoot(), HF_HUB_OFFLINE: '1', EMBEDDER_TFJS_MODEL_PATH: here + '/no-such-folder' },
      timeout: 300_000,
    });
    expect(stdout).toMatch(/tiny-sentence-t5 +dim +16 +mean pooling \+ normalize/);
    expect(stdout).toMatch(/tiny-xlm-roberta +dim +32 +mean pooling \+ normalize +prompts: query, passage/);
    expect(stdout).toMatch(/tiny-mpnet +dim +8 /);
    expect(stdout).toMatch(/all-minilm-l6-v2 +dim +384 .*nearest to the query: "Instructions for recovering access/);
    expect(stdout).toContain('Spearman correlation of the pairwise text similarities between models');
  });

  it('pnpm example:basic runs on the oldest Node engines allows (22.13 strips types only with --experimental-strip-types)', async () => {
    const oldest = process.env.EMBEDDER_OLDEST_NODE;
    if (oldest === undefined || oldest === '') {
      throw new Error('EMBEDDER_OLDEST_NODE is not set: export EMBEDDER_OLDEST_NODE=$(bash tools/scripts/oldest-node.sh) (tools/scripts/test.sh does)');
    }
    const { stdout: version } = await run(oldest, ['-p', 'process.version + " " + process.features.typescript']);
    const engines = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    // The binary is the oldest engines allows, and it is a Node that needs the flag (else this test proves nothing).
    expect(`>=${version.split(' ')[0]!.slice(1).replace(/\.0$/, '')} ${version.split(' ')[1]!.trim()}`).toBe(`${engines} false`);
    const env = { ...process.env, PATH: `${dirname(oldest)}:${process.env.PATH ?? ''}`, EMBEDDER_MODEL_PATH: modelRoot(), HF_HUB_OFFLINE: '1' };
    const plain = await run(oldest, ['basic-usage.ts'], { cwd: here, env }).then(() => '', (error: { stderr: string }) => error.stderr);
    expect(plain).toContain('ERR_UNKNOWN_FILE_EXTENSION');
    const { stdout, stderr } = await run('pnpm', ['-s', 'example:basic'], { cwd: repoRoot, env, timeout: 600_000 });
    expect(stdout).toContain('Generated 3 embeddings of dimension 384');
    expect(stdout).toMatch(/similarity\(hello, greetings\) = /);
    expect(stderr).not.toContain('ExperimentalWarning');
  });
});
