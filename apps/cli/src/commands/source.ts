import { EmbedderError } from '@embedder-rag/core';
import { detectFormat, openInput, readRecords, recordsFromArgs, type InputRecord } from '../input';

/** Where the texts of a command come from: its arguments, a file or stdin. */
export interface TextSourceFlags {
  input?: string;
  format?: string;
}

/** An input ready to stream: records, and what the progress bar needs to know about its size. */
export interface TextSource {
  records: AsyncIterable<InputRecord>;
  /** Texts (for arguments) or bytes (for a regular file); undefined for stdin. */
  total?: number;
  /** Whether `total` counts bytes (a file) rather than texts. */
  totalIsBytes: boolean;
  /** How messages name the input. */
  label: string;
  /** Records passed over by `skip`, known once the records have been read past them. */
  skipped(): { records: number; bytes: number };
}

/**
 * Opens the texts of a command: positional arguments, `--input FILE`, `--input -`, or stdin when no text is given
 * and stdin is not a terminal. `skip` passes over that many records (`--resume`).
 */
export async function openTextSource(args: readonly string[], flags: TextSourceFlags, skip = 0): Promise<TextSource> {
  if (args.length > 0 && flags.input !== undefined) {
    throw new EmbedderError('INVALID_CONFIG', 'give texts as arguments or with --input, not both');
  }
  let skippedRecords = 0;
  let skippedBytes = 0;
  const skipped = () => ({ records: skippedRecords, bytes: skippedBytes });
  if (args.length > 0) {
    const all = recordsFromArgs(args);
    skippedRecords = Math.min(skip, all.length);
    return { records: toAsync(all.slice(skip)), total: all.length, totalIsBytes: false, label: 'arguments', skipped };
  }
  const path = flags.input ?? '-';
  if (path === '-' && process.stdin.isTTY) {
    throw new EmbedderError('INVALID_CONFIG', 'no input: give texts as arguments, --input FILE, or pipe them on stdin');
  }
  const opened = await openInput(path);
  const format = detectFormat(path === '-' ? undefined : path, flags.format);
  const records = readRecords(opened.stream, format, {
    skip,
    onSkip: (bytes) => {
      skippedRecords++;
      skippedBytes += bytes;
    },
  });
  return { records, total: opened.size, totalIsBytes: true, label: opened.label, skipped };
}

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
