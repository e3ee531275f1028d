import { readFileSync } from 'node:fs';
import { openEmbedder, openTransformers, type BenchSystem } from './systems';

/**
 * One whole process of a library user embedding a file: `node dist/whole-process.js <embedder|transformers.js>
 * <dtype> <input>` imports the library, loads the model, embeds every line in one call and writes one JSON line per
 * text to stdout, in the CLI's format. The cli-process suite times it from outside beside `embedder embed`.
 */
const [system, dtype, input] = process.argv.slice(2);
if (!system || !dtype || !input) throw new Error('usage: whole-process.js <embedder|transformers.js> <dtype> <input>');
const texts = readFileSync(input, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');
const opened: BenchSystem =
  system === 'transformers.js' ? await openTransformers(dtype as 'fp32' | 'q8') : await openEmbedder({ dtype: dtype as 'fp32' | 'q8' });
const vectors = await opened.embed(texts);
const lines = vectors.map((vector, index) => `{"index":${index},"embedding":[${Array.prototype.join.call(vector, ',')}]}\n`);
process.stdout.write(lines.join(''));
await opened.dispose();
