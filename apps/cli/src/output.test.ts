import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatEmbeddingLine, openOutput, prepareResume } from './output';

const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prepareResume', () => {
  it('counts complete lines and cuts a torn last line', async () => {
    const file = join(dir, 'torn.jsonl');
    writeFileSync(file, '{"index":0}\n{"index":1}\n{"index":2,"embe');
    expect(await prepareResume(file)).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('{"index":0}\n{"index":1}\n');
  });
  it('leaves a clean file as it is, and counts across read chunks', async () => {
    const file = join(dir, 'big.jsonl');
    const line = `${'x'.repeat(999)}\n`;
    writeFileSync(file, line.repeat(300));
    expect(await prepareResume(file)).toBe(300);
    expect(readFileSync(file).length).toBe(300_000);
  });
  it('returns 0 for a missing file', async () => {
    expect(await prepareResume(join(dir, 'absent.jsonl'))).toBe(0);
  });
});

describe('formatEmbeddingLine', () => {
  it('writes JSON that reads back to the same float32 values', () => {
    const vector = Float32Array.from([0.1, -0.25, 1e-8, 3.4028234663852886e38]);
    const parsed = JSON.parse(formatEmbeddingLine(4, vector, { value: 'doc-1' })) as { index: number; id: string; embedding: number[] };
    expect(parsed.index).toBe(4);
    expect(parsed.id).toBe('doc-1');
    expect(Float32Array.from(parsed.embedding)).toEqual(vector);
    expect(Object.keys(JSON.parse(formatEmbeddingLine(0, vector)) as object)).toEqual(['index', 'embedding']);
  });
});

describe('openOutput', () => {
  it('appends when resuming and fails with the path when the file cannot be opened', async () => {
    const file = join(dir, 'append.jsonl');
    writeFileSync(file, 'a\n');
    const writer = await openOutput(file, true);
    await writer.write('b\n');
    await writer.close();
    expect(readFileSync(file, 'utf8')).toBe('a\nb\n');
    await expect(openOutput(join(dir, 'no-such-dir', 'x.jsonl'), false)).rejects.toThrow(/no-such-dir\/x.jsonl cannot be written \(ENOENT\)/);
  });
});
