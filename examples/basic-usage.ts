// The seed's basic example: configure, create, embed chunks, compare, read the stats.
// Run after the quick start: `pnpm example:basic` (the model is found under EMBEDDER_MODEL_PATH, which the quick
// start records in .env, else in the Hugging Face cache, else downloaded from the Hub into that cache).
import './exit-on-error.ts';
import { randomUUID } from 'node:crypto';
import { EmbedderConfig, EmbeddingGenerator, ModelType, type Chunk } from '@embedder-rag/embedder';

const config = new EmbedderConfig().withModelType(ModelType.AllMiniLmL6V2).withBatchSize(32).withNormalize(true).withEnv();

const generator = await EmbeddingGenerator.create(config);

const chunks: Chunk[] = ['Hello, world!', 'Greetings, planet Earth.', 'The invoice is due on Friday.'].map((content, i) => ({
  id: randomUUID(),
  content,
  metadata: { source: 'example', page: i + 1, createdAt: new Date(), properties: {} },
  references: [],
}));

const embedded = await generator.generateEmbeddings(chunks);
console.log(`Generated ${embedded.length} embeddings of dimension ${embedded[0]!.embedding.length}`);

const [hello, greetings, invoice] = embedded.map((chunk) => chunk.embedding);
console.log(`similarity(hello, greetings) = ${generator.calculateSimilarity(hello!, greetings!).toFixed(4)}`);
console.log(`similarity(hello, invoice)   = ${generator.calculateSimilarity(hello!, invoice!).toFixed(4)}`);

const stats = generator.getStats();
const lookups = stats.cacheHits + stats.cacheMisses;
console.log(`Total embeddings: ${stats.totalEmbeddings}`);
console.log(`Cache hit rate: ${lookups === 0 ? 0 : ((stats.cacheHits / lookups) * 100).toFixed(1)}%`);
console.log(`Average batch time: ${stats.avgBatchTimeMs.toFixed(2)}ms (${stats.backend}, ${stats.runtime}, ${stats.dtype})`);

await generator.dispose();
