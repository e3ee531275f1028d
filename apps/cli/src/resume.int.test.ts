import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedFile } from '@embedder-rag/test-fixtures';
import { runCli, spawnCli } from './run-cli.test-util';

const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 600 STS-B sentences as JSONL with ids. --batch-size 1 makes every vector independent of how the run was cut into
// windows, so a resumed output must equal a full run byte for byte.
const LINES = 600;
const input = join(dir, 'input.jsonl');
const sentences = readFileSync(sharedFile('data/bench/short.txt'), 'utf8').split('\n').filter((line) => line !== '');
writeFileSync(input, sentences.slice(0, LINES).map((text, i) => `${JSON.stringify({ id: `s${i}`, text })}\n`).join(''));
const flags = ['--input', input, '--batch-size', '1'];
let full = '';

beforeAll(async () => {
  const output = join(dir, 'full.jsonl');
  const run = await runCli(['embed', ...flags, '--output', output]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  full = readFileSync(output, 'utf8');
  expect(full.split('\n')).toHaveLength(LINES + 1);
}, 600_000);

describe('embedder embed --resume', () => {
  it('continues after a torn last line and ends equal to a full run, line for line', async () => {
    const output = join(dir, 'torn.jsonl');
    const lines = full.split('\n');
    // 250 complete lines, then half of the 251st, as a killed write leaves it.
    writeFileSync(output, `${lines.slice(0, 250).join('\n')}\n${lines[250]!.slice(0, 1000)}`);
    const run = await runCli(['embed', ...flags, '--output', output, '--resume']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const resumed = readFileSync(output, 'utf8');
    expect(resumed.split('\n')).toEqual(full.split('\n'));
  }, 300_000);

  it('continues after the process was killed midway', async () => {
    const output = join(dir, 'killed.jsonl');
    const child = spawnCli(['embed', ...flags, '--output', output]);
    child.stdin!.end();
    const exited = once(child, 'exit');
    // Wait until some output has reached the file (or the process ended), then kill without warning.
    let ended = false;
    void exited.then(() => (ended = true));
    while (!ended && !(existsSync(output) && statSync(output).size > 0)) await sleep(25);
    child.kill('SIGKILL');
    const [code, signal] = (await exited) as [number | null, string | null];
    const partial = readFileSync(output, 'utf8');
    const partialLines = partial.split('\n').length - 1;
    // The kill must have landed midway for this test to mean anything.
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    expect(partialLines).toBeGreaterThan(0);
    expect(partialLines).toBeLessThan(LINES);

    const run = await runCli(['embed', ...flags, '--output', output, '--resume']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readFileSync(output, 'utf8').split('\n')).toEqual(full.split('\n'));
  }, 600_000);

  it('does nothing when the output is complete, and refuses an output longer than the input', async () => {
    const complete = join(dir, 'complete.jsonl');
    writeFileSync(complete, full);
    const run = await runCli(['embed', ...flags, '--output', complete, '--resume']);
    expect(run.code).toBe(0);
    expect(readFileSync(complete, 'utf8')).toBe(full);

    const longer = join(dir, 'longer.jsonl');
    writeFileSync(longer, `${full}{"index":600}\n`);
    const bad = await runCli(['embed', ...flags, '--output', longer, '--resume']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^embedder: INVALID_INPUT: --resume: .*longer\.jsonl already has 601 lines but input .* has only 600 texts\n$/);
  });
});
