import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelDir, sharedFile } from '@embedder-rag/test-fixtures';
import { readSafetensors } from '@embedder-rag/weights';
import { runCli, spawnCli } from './run-cli.test-util';

const work = mkdtempSync(join(tmpdir(), 'embedder-cli-finetune-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tinyBert = modelDir('test-fixtures/tiny-bert');

/** STS-B rows as they are: tab separated, score 0–5 in column 5, sentences in columns 6 and 7. */
function stsRows(file: string, count: number): string {
  const path = join(work, `${file}-${count}.csv`);
  writeFileSync(path, readFileSync(sharedFile(`data/stsb/${file}.csv`), 'utf8').split('\n').slice(0, count).join('\n'));
  return path;
}

const train = stsRows('sts-dev', 48);

describe('embedder finetune', () => {
  it('fine-tunes tiny-bert on STS-B rows, reports the evaluation, and `embedder embed --model DIR` serves the result', async () => {
    const output = join(work, 'tuned');
    const run = await runCli(['finetune', '--model', tinyBert, '--train', train, '--eval', stsRows('sts-test', 40), '--loss', 'cosine', '--epochs', '2', '--batch-size', '16', '--lr', '1e-3', '--seed', '3', '--output', output]);
    expect(run.stderr).toMatch(/epoch 1: spearman -?\d\.\d{4} \(before training: -?\d\.\d{4}\)/);
    expect(run.stderr).toMatch(/epoch 2: spearman/);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { steps: number; evaluations: unknown[]; onnx: boolean };
    expect(summary.steps).toBe(6);
    expect(summary.evaluations).toHaveLength(2);
    expect(summary.onnx).toBe(true);
    for (const backend of ['onnx', 'tfjs']) {
      const embedded = await runCli(['embed', '--model', output, '--backend', backend, 'a man is playing a guitar']);
      expect(embedded.code, embedded.stderr).toBe(0);
      expect((JSON.parse(embedded.stdout) as { embedding: number[] }).embedding).toHaveLength(16);
    }
  });

  it('names the line of a malformed training file, refuses an existing output folder and an untrainable model', async () => {
    const bad = join(work, 'bad.jsonl');
    writeFileSync(bad, '{"sentence1":"a","sentence2":"b","score":0.5}\n{"sentence1":"a","sentence2":"b","score":1.7}\n');
    const malformed = await runCli(['finetune', '--model', tinyBert, '--train', bad, '--output', join(work, 'never')]);
    expect(malformed.code).toBe(3);
    expect(malformed.stderr).toMatch(/^embedder: INVALID_INPUT: .*bad\.jsonl:2: score 1\.7 is outside \[0, 1\]/);
    expect(existsSync(join(work, 'never'))).toBe(false);

    const existing = join(work, 'existing');
    writeFileSync(join(work, 'keep.txt'), 'x');
    const taken = await runCli(['finetune', '--model', tinyBert, '--train', train, '--output', work]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/INVALID_CONFIG: output folder .* already exists and is not empty \(pass overwrite \/ --overwrite/);
    expect(readFileSync(join(work, 'keep.txt'), 'utf8')).toBe('x');

    const mpnet = await runCli(['finetune', '--model', modelDir('test-fixtures/tiny-mpnet'), '--train', train, '--output', existing]);
    expect(mpnet.code).toBe(6);
    expect(mpnet.stderr).toMatch(/UNSUPPORTED: cannot fine-tune .*'mpnet' model; the trainer fine-tunes these families: bert/);
  });

  /** The run the interrupted ones must end equal to (made once). */
  const resumableArgs = (output: string) => ['finetune', '--model', tinyBert, '--train', train, '--epochs', '4', '--batch-size', '8', '--lr', '1e-3', '--seed', '11', '--output', output, '--checkpoint-every', '5', '--runtime', 'wasm'];
  let uninterrupted: Promise<string> | undefined;
  const uninterruptedRun = () =>
    (uninterrupted ??= (async () => {
      const whole = join(work, 'whole');
      const run = await runCli(resumableArgs(whole));
      expect(run.code, run.stderr).toBe(0);
      return whole;
    })());

  /** The largest difference between the float32 weights of two output folders (same tensor names required). */
  function largestWeightDifference(first: string, second: string): number {
    const a = readSafetensors(new Uint8Array(readFileSync(join(first, 'model.safetensors'))), first);
    const b = readSafetensors(new Uint8Array(readFileSync(join(second, 'model.safetensors'))), second);
    expect(b.names()).toEqual(a.names());
    let worst = 0;
    for (const name of a.names()) {
      if (a.info(name)!.dtype !== 'F32') continue;
      const x = a.float32(name);
      const y = b.float32(name);
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    }
    return worst;
  }

  it('a run killed with SIGKILL between checkpoints resumes from the last one and ends with the weights of an uninterrupted run', async () => {
    const args = resumableArgs;
    const whole = await uninterruptedRun();

    const killed = join(work, 'killed');
    const child = spawnCli(args(killed));
    child.stdin!.end();
    let stderr = '';
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        // Killed right after the second checkpoint (step 10 of 24): mid-way to the third.
        if (/checkpoint step 10:/.test(stderr)) child.kill('SIGKILL');
      });
      child.on('close', (_code, closedWith) => resolve(closedWith));
    });
    expect(signal, stderr).toBe('SIGKILL');
    expect(existsSync(join(killed, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(killed, 'checkpoints', 'step-00000010', 'state.json'))).toBe(true);

    const resumed = await runCli([...args(killed), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at step (10|15|20) of 24/);
    expect((JSON.parse(resumed.stdout) as { stepsRun: number }).stepsRun).toBeLessThan(24);

    const worst = largestWeightDifference(whole, killed);
    console.log(`killed + resumed vs uninterrupted: largest weight difference ${worst}`);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  // A real full disk: a tmpfs mounted for the test (CI runs as root; elsewhere `mount` fails and so does the test).
  it('a disk that fills up mid-run: OUTPUT_FAILED (exit 12) naming the intact checkpoint, then --resume once there is room ends like an uninterrupted run', async () => {
    const whole = await uninterruptedRun();
    // A checkpoint holds the parameters and AdamW's two moments (~3x the weights file): room for one, not for two.
    const weights = statSync(join(tinyBert, 'model.safetensors')).size;
    const disk = mkdtempSync(join(tmpdir(), 'embedder-full-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.floor(4.5 * weights)}`, 'tmpfs', disk]);
    try {
      const output = join(disk, 'out');
      const full = await runCli(resumableArgs(output));
      expect(full.code, full.stderr).toBe(12);
      expect(full.stderr).toMatch(/OUTPUT_FAILED: cannot write checkpoint step 10 .*no space left on the device \(ENOSPC/);
      expect(full.stderr).toMatch(/step-00000005\) is intact: free space, then rerun with --resume/);
      expect(full.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
      expect(readdirSync(join(output, 'checkpoints'))).toEqual(['step-00000005']);

      execFileSync('mount', ['-o', 'remount,size=64m', disk]);
      const resumed = await runCli([...resumableArgs(output), '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/resuming at step 5 of 24/);
      const worst = largestWeightDifference(whole, output);
      console.log(`disk full at step 10, resumed from step 5 vs uninterrupted: largest weight difference ${worst}`);
      expect(worst).toBeLessThanOrEqual(1e-6);
    } finally {
      execFileSync('umount', [disk]);
      rmSync(disk, { recursive: true, force: true });
    }
  });
});
