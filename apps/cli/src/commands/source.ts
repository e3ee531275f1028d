import { EmbedderError } from '@embedder-rag/core';
import { countRecords, detectFormat, openInput, readRecords, recordsFromArgs, type InputRecord } from '../input';

/** Where the texts of a command come from: its arguments, a file or stdin. */
export interface TextSourceFlags {
  input?: string;
  format?: string;
}

/** An input ready to stream: records, and what the progress bar needs to know about its size. */
export interface TextSource {
  records: AsyncIterable<InputRecord>;
  /** Texts, when known at once (arguments). */
  total?: number;
  /** Counts the texts of a regular file (a second read of it, run beside the model's load); absent for stdin. */
  countTotal?: () => Promise<number>;
  /** How messages name the input. */
  label: string;
  /** Records passed over by `skip`, known once the records have been read past them. */
  skipped(): { records: number };
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
  const skipped = () => ({ records: skippedRecords });
  if (args.length > 0) {
    const all = recordsFromArgs(args);
    skippedRecords = Math.min(skip, all.length);
    return { records: toAsync(all.slice(skip)), total: all.length, label: 'arguments', skipped };
  }
  const path = flags.input ?? '-';
  if (path === '-' && process.stdin.isTTY) {
    throw new EmbedderError('INVALID_CONFIG', 'no input: give texts as arguments, --input FILE, or pipe them on stdin');
  }
  const opened = await openInput(path);
  const format = detectFormat(path === '-' ? undefined : path, flags.format);
  const records = readRecords(opened.stream, format, {
    skip,
    onSkip: () => {
      skippedRecords++;
    },
  });
  const source: TextSource = { records, label: opened.label, skipped };
  if (opened.size !== undefined) source.countTotal = () => countRecords(path, format);
  return source;
}

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
