// The seed's model comparison: the same texts through onnx fp32, onnx q8 and tfjs, with the time per batch and the
// cosine between their vectors. Run after `pnpm build`: `pnpm example:compare`.
//
// onnx reads onnx/model.onnx and onnx/model_quantized.onnx under EMBEDDER_MODEL_PATH; tfjs reads model.safetensors
// (or pytorch_model.bin), which ../shared/models/fetch-weights.sh lays out under ~/.cache/embedder-test-models
// (set EMBEDDER_TFJS_MODEL_PATH for another folder). Missing files are downloaded from the Hugging Face Hub.
import './exit-on-error.ts';
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
