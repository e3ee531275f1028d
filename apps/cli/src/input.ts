import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { EmbedderError } from '@embedder-rag/core';

/** How an input file is read: one text a line, or one JSON object a line. */
export type InputFormat = 'text' | 'jsonl';

/** One text to embed, with where it came from. */
export interface InputRecord {
  text: string;
  /** The JSONL line's `id` field, when it has one. */
  id?: unknown;
  /** 1-based line number in the input. */
  line: number;
}

/** `--format` when given, else `.jsonl`/`.ndjson` → jsonl, else text. */
export function detectFormat(file: string | undefined, format?: string): InputFormat {
  if (format !== undefined) {
    if (format === 'text' || format === 'jsonl') return format;
    throw new EmbedderError('INVALID_CONFIG', `--format must be text or jsonl, got '${format}'`, {
      details: { flag: '--format', allowed: ['text', 'jsonl'] },
    });
  }
  const ext = file === undefined ? '' : extname(file).toLowerCase();
  return ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'text';
}

/** An opened input: its stream and, for a regular file, its size in bytes. */
export interface OpenedInput {
  stream: Readable;
  /** Size of a regular file; undefined for stdin or a pipe. */
  size?: number;
  /** How messages name it: the path, or `stdin`. */
  label: string;
}

/** Opens `-` (stdin) or a file, failing with INVALID_INPUT naming the file when it cannot be read. */
export async function openInput(path: string): Promise<OpenedInput> {
  if (path === '-') return { stream: process.stdin, label: 'stdin' };
  let size: number | undefined;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new EmbedderError('INVALID_INPUT', `input ${path} is a directory, not a file`);
    if (info.isFile()) size = info.size;
  } catch (error) {
    if (error instanceof EmbedderError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be read';
    throw new EmbedderError('INVALID_INPUT', `input file ${path} ${reason}`, { cause: error, details: { file: path } });
  }
  return { stream: createReadStream(path), size, label: path };
}

/**
 * Reads one JSONL line: an object with a string `text` (or `content`) field, or a bare JSON string.
 * Throws INVALID_INPUT naming the line number and what is wrong.
 */
export function parseJsonlLine(raw: string, line: number): { text: string; id?: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EmbedderError('INVALID_INPUT', `input line ${line} is not valid JSON: ${reason}`, {
      cause: error,
      details: { line },
    });
  }
  if (typeof value === 'string') return { text: checkText(value, line) };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EmbedderError('INVALID_INPUT', `input line ${line} is not a JSON object with a text or content field`, {
      details: { line },
    });
  }
  const record = value as Record<string, unknown>;
  const field = 'text' in record ? 'text' : 'content' in record ? 'content' : undefined;
  if (field === undefined) {
    throw new EmbedderError('INVALID_INPUT', `input line ${line} has no text or content field`, { details: { line } });
  }
  const text = record[field];
  if (typeof text !== 'string') {
    const kind = text === null ? 'null' : Array.isArray(text) ? 'an array' : `a ${typeof text}`;
    throw new EmbedderError('INVALID_INPUT', `input line ${line}: field ${field} must be a string, got ${kind}`, {
      details: { line, field },
    });
  }
  return 'id' in record ? { text: checkText(text, line), id: record.id } : { text: checkText(text, line) };
}

function checkText(text: string, line: number): string {
  if (text === '') throw new EmbedderError('INVALID_INPUT', `input line ${line} is empty`, { details: { line } });
  return text;
}

/** Options of {@link readRecords}. */
export interface ReadRecordsOptions {
  /** Records to pass over without parsing (`--resume`). @default 0 */
  skip?: number;
  /** Called once per skipped record. */
  onSkip?: () => void;
}

/**
 * Streams the records of an input, one line at a time (readline pauses the stream while the consumer is busy, so
 * memory stays bounded whatever the file size). In text format every line is a text and an empty line is an
 * error; in JSONL format blank lines are passed over.
 */
export async function* readRecords(
  stream: Readable,
  format: InputFormat,
  options: ReadRecordsOptions = {},
): AsyncGenerator<InputRecord> {
  let toSkip = options.skip ?? 0;
  let line = 0;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const raw of lines) {
      line++;
      if (format === 'jsonl' && raw.trim() === '') continue;
      if (toSkip > 0) {
        toSkip--;
        options.onSkip?.();
        continue;
      }
      if (format === 'jsonl') {
        yield { ...parseJsonlLine(raw, line), line };
      } else {
        yield { text: checkText(raw, line), line };
      }
    }
  } finally {
    lines.close();
  }
}

/** Turns command-line texts into records; an empty argument is an error naming its position. */
export function recordsFromArgs(texts: readonly string[]): InputRecord[] {
  return texts.map((text, i) => {
    if (text === '') {
      throw new EmbedderError('INVALID_INPUT', `text argument ${i + 1} is empty`, { details: { argument: i + 1 } });
    }
    return { text, line: i + 1 };
  });
}

/**
 * Counts the texts of a file as {@link readRecords} will read them, scanning bytes without decoding: every line for
 * text input, the lines holding more than whitespace for JSONL. Fast (a 100 MB file in well under a second), so the
 * progress bar can show `done/total` embeddings while the model loads.
 */
export async function countRecords(path: string, format: InputFormat): Promise<number> {
  let count = 0;
  let lineHasText = false;
  let lineHasBytes = false;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x0a) {
        if (format === 'text' || lineHasText) count++;
        lineHasText = false;
        lineHasBytes = false;
      } else {
        lineHasBytes = true;
        // Bytes above space (and every byte of a multi-byte character) are text; \r, \t and spaces are not.
        if (byte > 0x20) lineHasText = true;
      }
    }
  }
  // A last line without a newline.
  if (format === 'text' ? lineHasBytes : lineHasText) count++;
  return count;
}
