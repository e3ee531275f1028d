import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedFile } from '@embedder-rag/test-fixtures';
import { isEmbedderError } from '@embedder-rag/core';
import { loadStsb } from './stsb';

describe('loadStsb', () => {
  it('reads the 1,379 test pairs, quotes kept as text', () => {
    const pairs = loadStsb(sharedFile('data/stsb/sts-test.csv'));
    expect(pairs).toHaveLength(1379);
    expect(pairs.every((p) => p.score >= 0 && p.score <= 5)).toBe(true);
    const mean = pairs.reduce((s, p) => s + p.score, 0) / pairs.length;
    expect(mean).toBeCloseTo(2.608, 3);
    expect(pairs.some((p) => p.sentence1.includes('"') || p.sentence2.includes('"'))).toBe(true);
  });

  it('names the file and line of a malformed row', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stsb-')), 'bad.csv');
    writeFileSync(file, 'g\tf\t2012\t1\t4.0\ta\tb\ng\tf\t2012\t2\tnot-a-score\ta\tb\n');
    expect(() => loadStsb(file)).toThrow(/bad\.csv:2/);
    try {
      loadStsb(file);
    } catch (error) {
      expect(isEmbedderError(error, 'INVALID_INPUT')).toBe(true);
    }
  });
});
