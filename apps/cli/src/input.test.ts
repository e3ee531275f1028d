import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { embedderFailure } from '@embedder-rag/test-fixtures';
import { countRecords, detectFormat, parseJsonlLine, readRecords, recordsFromArgs, type InputFormat, type InputRecord } from './input';

async function collect(content: string, format: InputFormat, skip = 0): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const record of readRecords(Readable.from([content]), format, { skip })) out.push(record);
  return out;
}

describe('detectFormat', () => {
  it('follows --format, else the extension', () => {
    expect(detectFormat('a.jsonl')).toBe('jsonl');
    expect(detectFormat('a.NDJSON')).toBe('jsonl');
    expect(detectFormat('a.txt')).toBe('text');
    expect(detectFormat(undefined)).toBe('text');
    expect(detectFormat('a.jsonl', 'text')).toBe('text');
    expect(() => detectFormat('a', 'csv')).toThrow(/--format must be text or jsonl, got 'csv'/);
  });
});

describe('parseJsonlLine', () => {
  it('takes text, else content, keeps id, accepts a bare string', () => {
    expect(parseJsonlLine('{"text":"a","id":7}', 1)).toEqual({ text: 'a', id: 7 });
    expect(parseJsonlLine('{"content":"b"}', 1)).toEqual({ text: 'b' });
    expect(parseJsonlLine('"c"', 1)).toEqual({ text: 'c' });
    expect(parseJsonlLine('{"text":"tab\\there\\nnewline"}', 1).text).toBe('tab\there\nnewline');
  });
  it('names the line and the problem', () => {
    expect(() => parseJsonlLine('{"text": ', 4)).toThrow(/^input line 4 is not valid JSON/);
    expect(() => parseJsonlLine('{"title":"x"}', 5)).toThrow('input line 5 has no text or content field');
    expect(() => parseJsonlLine('{"text":42}', 6)).toThrow('input line 6: field text must be a string, got a number');
    expect(() => parseJsonlLine('{"content":null}', 6)).toThrow('field content must be a string, got null');
    expect(() => parseJsonlLine('{"text":""}', 7)).toThrow('input line 7 is empty');
    expect(() => parseJsonlLine('[1,2]', 8)).toThrow('input line 8 is not a JSON object');
  });
});

describe('readRecords', () => {
  it('reads one text a line with line numbers, CRLF or LF', async () => {
    const records = await collect('alpha\r\nbeta\ngamma', 'text');
    expect(records.map((r) => r.text)).toEqual(['alpha', 'beta', 'gamma']);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
  });
  it('fails on an empty text line, naming it', async () => {
    expect(await embedderFailure(collect('a\nb\n\nc\n', 'text'))).toEqual({ code: 'INVALID_INPUT', message: 'input line 3 is empty' });
  });
  it('passes over blank JSONL lines but keeps real line numbers in errors', async () => {
    const records = await collect('{"text":"a"}\n\n{"text":"b","id":"x"}\n', 'jsonl');
    expect(records).toEqual([
      { text: 'a', line: 1 },
      { text: 'b', id: 'x', line: 3 },
    ]);
    expect((await embedderFailure(collect('{"text":"a"}\n\n{oops}\n', 'jsonl'))).message).toMatch(/^input line 3 is not valid JSON/);
  });
  it('skips records without parsing them (resume)', async () => {
    const records = await collect('{"text":"a"}\nnot json\n{"text":"c"}\n', 'jsonl', 2);
    expect(records.map((r) => r.text)).toEqual(['c']);
  });
  it('yields nothing for an empty input', async () => {
    expect(await collect('', 'text')).toEqual([]);
  });
});

describe('recordsFromArgs', () => {
  it('rejects an empty argument by position', () => {
    expect(() => recordsFromArgs(['a', ''])).toThrow('text argument 2 is empty');
    expect(recordsFromArgs(['a', ' ']).map((r) => r.text)).toEqual(['a', ' ']);
  });
});

describe('countRecords', () => {
  it('counts the texts readRecords yields: every text line, the JSONL lines with more than whitespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedder-count-'));
    try {
      const cases: [string, InputFormat][] = [
        ['alpha\r\nbeta\ngamma', 'text'],
        ['alpha\nbeta\n', 'text'],
        ['{"text":"a"}\n\n  \t\r\n{"text":"b"}\n{"text":"é"}', 'jsonl'],
        ['', 'jsonl'],
        ['"ünïcode ✓"\n"x"\n\n', 'jsonl'],
      ];
      for (const [i, [content, format]] of cases.entries()) {
        const file = join(dir, `in-${i}`);
        writeFileSync(file, content);
        expect(await countRecords(file, format)).toBe((await collect(content, format)).length);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
