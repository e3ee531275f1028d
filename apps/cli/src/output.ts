import { createReadStream, createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { EmbedderError } from '@embedder-rag/core';

/**
 * Gets an existing output file ready for `--resume`: counts its complete lines (those ending in a newline) and
 * cuts a torn last line, left by a run that was killed mid-write, so appending continues cleanly.
 * Returns 0 when the file does not exist. Reads in chunks, so a large output costs no memory.
 */
export async function prepareResume(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new EmbedderError('INVALID_CONFIG', `--resume needs --output to be a regular file: ${path}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let lines = 0;
  let position = 0;
  let endOfLastLine = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let at = chunk.indexOf(0x0a);
    while (at !== -1) {
      lines++;
      endOfLastLine = position + at + 1;
      at = chunk.indexOf(0x0a, at + 1);
    }
    position += chunk.length;
  }
  if (endOfLastLine < position) await truncate(path, endOfLastLine);
  return lines;
}

/** One output line: `{"index":i,"id":…,"embedding":[…]}` (id only when the input line had one). */
export function formatEmbeddingLine(index: number, embedding: Float32Array, id?: { value: unknown }): string {
  // Plain JSON numbers: each float32 printed as the shortest double that reads back to the same value.
  const head = id === undefined ? `{"index":${index},` : `{"index":${index},"id":${JSON.stringify(id.value) ?? 'null'},`;
  return `${head}"embedding":[${embedding.join(',')}]}\n`;
}

/**
 * Writes lines to a stream, waiting when its buffer is full (so a slow disk or pipe slows the producer instead of
 * filling memory), and surfaces a stream error on the next write.
 */
export class LineWriter {
  readonly #stream: Writable;
  readonly #ownsStream: boolean;
  #error: Error | undefined;

  constructor(stream: Writable, ownsStream: boolean) {
    this.#stream = stream;
    this.#ownsStream = ownsStream;
    stream.on('error', (error: Error) => {
      this.#error = error;
    });
  }

  /** Writes `text` (already newline-terminated). */
  async write(text: string): Promise<void> {
    if (this.#error) throw this.#error;
    if (!this.#stream.write(text)) {
      // once() also rejects on 'error', and removes both listeners either way.
      await once(this.#stream, 'drain');
    }
  }

  /** Flushes and closes a file; for stdout, waits until what was written has been handed to the OS. */
  async close(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#ownsStream) {
      this.#stream.end();
      await once(this.#stream, 'close');
    } else {
      // A pipe may still hold queued data the OS did not take yet, and the process exits right after: an empty
      // write's callback runs once everything before it has been flushed.
      await new Promise<void>((resolve, reject) => this.#stream.write('', (error) => (error ? reject(error) : resolve())));
    }
    if (this.#error) throw this.#error;
  }
}

/** Opens `--output` (or stdout when undefined or `-`), appending when resuming. */
export async function openOutput(path: string | undefined, append: boolean): Promise<LineWriter> {
  if (path === undefined || path === '-') return new LineWriter(process.stdout, false);
  const stream = createWriteStream(path, { flags: append ? 'a' : 'w' });
  try {
    await once(stream, 'open');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new EmbedderError('INVALID_CONFIG', `output file ${path} cannot be written (${reason})`, {
      cause: error,
      details: { file: path },
    });
  }
  return new LineWriter(stream, true);
}
