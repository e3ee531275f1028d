/**
 * `pnpm eval`: STS-B Spearman (cosine) of embedder for a model, backend and dtype(s).
 *
 *   pnpm eval [--model all-minilm-l6-v2] [--backend onnx] [--dtype fp32,q8] [--split test|dev] [--file path] [--json]
 */
import { parseArgs } from 'node:util';
import { EmbedderConfig, findBuiltinModel, isEmbedderError, type Dtype } from '@embedder-rag/core';
import { EmbeddingGenerator } from '@embedder-rag/embedder';
import { sharedFile } from '@embedder-rag/test-fixtures';
import { evaluateSts } from './evaluate';
import { PUBLISHED_STSB_SPEARMAN } from './published';
import { loadStsb } from './stsb';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'all-minilm-l6-v2' },
    backend: { type: 'string', default: 'onnx' },
    dtype: { type: 'string', default: 'fp32' },
    split: { type: 'string', default: 'test' },
    file: { type: 'string' },
    'model-path': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('pnpm eval [--model id] [--backend onnx|tfjs] [--dtype fp32,q8] [--split test|dev] [--file sts.csv] [--model-path dir] [--json]');
  process.exit(0);
}

const file = values.file ?? sharedFile(`data/stsb/sts-${values.split}.csv`);
const pairs = loadStsb(file);
const folder = findBuiltinModel(values.model)?.folderName ?? values.model;
const published = values.split === 'test' && !values.file ? PUBLISHED_STSB_SPEARMAN[folder] : undefined;

interface Row {
  model: string;
  backend: string;
  dtype: string;
  pairs: number;
  spearman: number;
  pearson: number;
  published?: number;
  diff?: number;
  seconds: number;
}

const rows: Row[] = [];
for (const dtype of values.dtype.split(',').map((d) => d.trim()) as Dtype[]) {
  try {
    const config = EmbedderConfig.create({
      model: values.model,
      backend: values.backend,
      dtype,
      cacheSize: 0,
      ...(values['model-path'] ? { modelPath: values['model-path'] } : {}),
    }).withEnv(process.env);
    const generator = await EmbeddingGenerator.create(config);
    const result = await evaluateSts(pairs, (texts) => generator.embed(texts));
    rows.push({
      model: generator.model.id,
      backend: generator.model.backend,
      dtype,
      pairs: result.pairs,
      spearman: result.spearman,
      pearson: result.pearson,
      ...(published === undefined ? {} : { published, diff: result.spearman - published }),
      seconds: result.seconds,
    });
    await generator.dispose();
  } catch (error) {
    console.error(`eval ${values.model} ${values.backend} ${dtype} failed: ${isEmbedderError(error) ? `${error.code}: ${error.message}` : String(error)}`);
    process.exitCode = 1;
  }
}

if (values.json) {
  console.log(JSON.stringify({ file, rows }, null, 2));
} else {
  console.log(`STS-B ${values.split} (${file}), Spearman of cosine similarity vs gold scores`);
  const table = rows.map((r) => ({
    model: r.model,
    backend: r.backend,
    dtype: r.dtype,
    pairs: r.pairs,
    spearman: r.spearman.toFixed(5),
    pearson: r.pearson.toFixed(5),
    published: r.published?.toFixed(5) ?? '-',
    diff: r.diff === undefined ? '-' : (r.diff >= 0 ? '+' : '') + r.diff.toFixed(5),
    seconds: r.seconds.toFixed(1),
  }));
  console.table(table);
}
