// The seed's model comparison: the same texts through onnx fp32, onnx q8 and tfjs, with the time per batch and the
// cosine between their vectors; then the same texts through models of different families (BERT, T5 with a Dense
// layer, XLM-RoBERTa with prompts, MPNet), with each one's pipeline, time and how alike their similarity structure is.
// Run after `pnpm build`: `pnpm example:compare`.
//
// The families are EMBEDDER_COMPARE_MODELS (comma-separated names, Hub ids or folders; e.g.
// `all-minilm-l6-v2,bge-small-en-v1.5,multilingual-e5-small,all-mpnet-base-v2,sentence-t5-base`, downloaded when
// missing), by default all-MiniLM-L6-v2 and the tiny family fixtures under EMBEDDER_MODEL_PATH/test-fixtures (random
// weights: their numbers show the pipeline runs, not quality).
//
// onnx reads onnx/model.onnx and onnx/model_quantized.onnx under EMBEDDER_MODEL_PATH; tfjs reads model.safetensors
// (or pytorch_model.bin), which ../shared/models/fetch-weights.sh lays out under ~/.cache/embedder-test-models
// (set EMBEDDER_TFJS_MODEL_PATH for another folder). Missing files are downloaded from the Hugging Face Hub.
import './exit-on-error.ts';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EmbedderConfig, EmbeddingGenerator } from '@embedder-rag/embedder';

const texts = [
  'The cat sits on the mat.',
  'A feline is resting on a rug.',
  'Stock markets fell sharply on Monday after the central bank raised interest rates.',
  'How do I reset my password?',
  'Instructions for recovering access to your account when you forgot your login credentials.',
  'The mitochondria is the powerhouse of the cell.',
  'Paris is the capital and most populous city of France.',
  'Rust and TypeScript are both used to build fast, reliable software.',
];
const REPEATS = 5;
const tfjsModelPath = process.env.EMBEDDER_TFJS_MODEL_PATH ?? join(homedir(), '.cache', 'embedder-test-models');

const variants = [
  { name: 'onnx fp32', config: new EmbedderConfig().withEnv().withBackend('onnx').withDtype('fp32') },
  { name: 'onnx q8', config: new EmbedderConfig().withEnv().withBackend('onnx').withDtype('q8') },
  { name: 'tfjs fp32', config: new EmbedderConfig().withEnv().withBackend('tfjs').withDtype('fp32').withModelPath(tfjsModelPath) },
];

const vectors = new Map<string, Float32Array[]>();
let similarity: ((a: Float32Array, b: Float32Array) => number) | undefined;

console.log(`${texts.length} texts, one batch, best of ${REPEATS} runs (cache off)\n`);
for (const variant of variants) {
  let generator: EmbeddingGenerator;
  try {
    generator = await EmbeddingGenerator.create(variant.config.withCacheSize(0));
  } catch (error) {
    console.log(`${variant.name.padEnd(10)} skipped: ${(error as Error).message}`);
    continue;
  }
  const times: number[] = [];
  let result: Float32Array[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    result = await generator.embed(texts);
    times.push(performance.now() - start);
  }
  vectors.set(variant.name, result);
  similarity ??= (a, b) => generator.calculateSimilarity(a, b);
  const { runtime } = generator.getStats();
  console.log(`${variant.name.padEnd(10)} ${Math.min(...times).toFixed(1).padStart(8)} ms/batch   ${runtime}`);
  await generator.dispose();
}

console.log('\ncosine between the variants\' vectors of the same text (min / mean over the texts):');
const names = [...vectors.keys()];
for (let a = 0; a < names.length; a++) {
  for (let b = a + 1; b < names.length; b++) {
    const first = vectors.get(names[a]!)!;
    const second = vectors.get(names[b]!)!;
    const cosines = first.map((vector, i) => similarity!(vector, second[i]!));
    const mean = cosines.reduce((sum, value) => sum + value, 0) / cosines.length;
    console.log(`  ${names[a]} vs ${names[b]}: ${Math.min(...cosines).toFixed(6)} / ${mean.toFixed(6)}`);
  }
}

// Model families: each model's own pipeline on the same texts. Vectors of different models live in different spaces
// (even of different sizes), so they are compared by their similarity structure: the Spearman correlation of the
// pairwise cosines of the texts.
const fixtureRoot = join(process.env.EMBEDDER_MODEL_PATH ?? '', 'test-fixtures');
const families = process.env.EMBEDDER_COMPARE_MODELS?.split(',').map((name) => name.trim()).filter((name) => name !== '') ?? [
  'all-minilm-l6-v2',
  ...['tiny-bert', 'tiny-sentence-t5', 'tiny-xlm-roberta', 'tiny-mpnet'].map((name) => join(fixtureRoot, name)).filter((dir) => existsSync(dir)),
];
const query = texts[3]!;
const structures = new Map<string, number[]>();

console.log(`\nmodel families on the same ${texts.length} texts (onnx fp32; query "${query}" gets the model's query prompt when it has one)`);
for (const model of families) {
  let generator: EmbeddingGenerator;
  try {
    generator = await EmbeddingGenerator.create(new EmbedderConfig().withEnv().withBackend('onnx').withModelType(model).withCacheSize(0));
  } catch (error) {
    console.log(`${model}: skipped: ${(error as Error).message}`);
    continue;
  }
  const info = generator.model;
  const label = info.id.split('/').pop()!;
  const start = performance.now();
  const vectors = await generator.embed(texts);
  const ms = performance.now() - start;
  const promptName = 'query' in info.prompts ? 'query' : undefined;
  const [queryVector] = await generator.embed([query], promptName === undefined ? {} : { promptName });
  const ranked = generator.findTopK(queryVector!, vectors.filter((_, i) => i !== 3), 1)[0]!;
  const best = texts.filter((_, i) => i !== 3)[ranked.index]!;
  const pairs: number[] = [];
  for (let a = 0; a < texts.length; a++) for (let b = a + 1; b < texts.length; b++) pairs.push(generator.calculateSimilarity(vectors[a]!, vectors[b]!));
  structures.set(label, pairs);
  const prompts = Object.keys(info.prompts).filter((name) => info.prompts[name] !== '');
  console.log(
    `${label.padEnd(22)} dim ${String(info.dimension).padStart(4)}  ${info.pooling.padEnd(4)} pooling${info.normalize ? ' + normalize' : ''}` +
      `${prompts.length > 0 ? `  prompts: ${prompts.join(', ')}` : ''}  ${ms.toFixed(1)} ms  nearest to the query: "${best.slice(0, 40)}" (${ranked.score.toFixed(3)})`,
  );
  await generator.dispose();
}

function ranks(values: number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const out = new Array<number>(values.length);
  order.forEach((item, rank) => (out[item.index] = rank));
  return out;
}

function spearman(a: number[], b: number[]): number {
  const [ra, rb] = [ranks(a), ranks(b)];
  const n = a.length;
  const d2 = ra.reduce((sum, r, i) => sum + (r - rb[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

const labels = [...structures.keys()];
if (labels.length > 1) {
  console.log('\nSpearman correlation of the pairwise text similarities between models:');
  for (let a = 0; a < labels.length; a++) {
    for (let b = a + 1; b < labels.length; b++) {
      console.log(`  ${labels[a]} vs ${labels[b]}: ${spearman(structures.get(labels[a]!)!, structures.get(labels[b]!)!).toFixed(3)}`);
    }
  }
}
