// The seed's batch-processing example: embed a JSONL file of chunks with their metadata, streaming, in bounded memory.
//
//   pnpm build && pnpm example:batch [input.jsonl] [output.jsonl]
//   node examples/batch-processing.ts ../shared/data/bench/mixed.jsonl /tmp/vectors.jsonl   (Node >= 23.6 strips the types;
//   on Node 22 add --experimental-strip-types, or run it with tsx)
//
// Each input line is an object with the text in `text` (or `content`) and anything else as metadata, e.g.
// {"id": "doc-1#3", "text": "…", "source": "doc-1.pdf", "page": 2}. Each output line is the same object without the
// text, plus `tokens` and `embedding`. Lines are read, embedded and written as a stream (embedStream keeps a window of
// texts in flight, in input order), so a file of any size runs in the same memory. Progress goes to stderr.
// EMBEDDER_* variables configure the generator (EMBEDDER_DTYPE=q8 for int8, EMBEDDER_MODEL_PATH for local models).
import { exitWithError } from './exit-on-error.ts';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EmbedderConfig, EmbeddingGenerator } from '@embedder-rag/embedder';

const here = dirname(fileURLToPath(import.meta.url));
// Relative paths are the user's: `pnpm example:batch` runs this from the repo's root, and pnpm passes the folder it
// was started in as INIT_CWD.
const userCwd = process.env.INIT_CWD ?? process.cwd();
const input = process.argv[2] ? resolve(userCwd, process.argv[2]) : join(here, '..', '..', 'shared', 'data', 'bench', 'mixed.jsonl');
const output = process.argv[3] ? resolve(userCwd, process.argv[3]) : undefined;

const generator = await EmbeddingGenerator.create(new EmbedderConfig().withEnv());
console.error(`embedding ${input} with ${generator.model.id} (${generator.model.backend} ${generator.model.dtype})`);

// Metadata of the lines read but not yet written: at most one stream window of them.
const pending = new Map<number, Record<string, unknown>>();
let lineNumber = 0;
let nextIndex = 0;

async function* texts(): AsyncGenerator<string> {
  const stream = createReadStream(input).on('error', exitWithError);
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim() === '') continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${input}:${lineNumber}: not a JSON object (${(error as Error).message})`);
    }
    const { text, content, ...metadata } = record;
    const body = typeof text === 'string' ? text : content;
    if (typeof body !== 'string' || body === '') throw new Error(`${input}:${lineNumber}: no "text" or "content" string`);
    // embedStream numbers the texts in the order they are yielded.
    pending.set(nextIndex++, metadata);
    yield body;
  }
}

// A stream's 'error' (a missing input, an output folder that does not exist) ends the example with one line.
const out = output ? createWriteStream(output).on('error', exitWithError) : process.stdout;
// `… | head` closes the pipe early: stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const started = performance.now();
let written = 0;
let tokens = 0;
for await (const { index, embedding, tokenCount } of generator.embedStream(texts(), { windowSize: 256 })) {
  const metadata = pending.get(index) ?? {};
  pending.delete(index);
  tokens += tokenCount;
  const line = `${JSON.stringify({ ...metadata, tokens: tokenCount, embedding: Array.from(embedding, (x) => Math.round(x * 1e6) / 1e6) })}\n`;
  // Respect back-pressure: a slow consumer pauses reading instead of filling memory.
  if (!out.write(line)) await once(out, 'drain');
  written++;
  if (written % 200 === 0) {
    const seconds = (performance.now() - started) / 1000;
    console.error(`  ${written} chunks, ${(written / seconds).toFixed(1)}/s, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB`);
  }
}
if (out !== process.stdout) out.end();

const seconds = (performance.now() - started) / 1000;
const stats = generator.getStats();
console.error(
  `done: ${written} chunks, ${tokens} tokens in ${seconds.toFixed(1)} s (${(written / seconds).toFixed(1)} chunks/s), ` +
    `${stats.totalBatches} batches, ${stats.avgBatchTimeMs.toFixed(1)} ms per batch${output ? ` → ${output}` : ''}`,
);
await generator.dispose();
