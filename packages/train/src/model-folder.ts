import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { float32Tensor, writeSafetensors, type TensorToWrite } from '@embedder-rag/weights';
import { writeFileAtomic } from './atomic';
import { patchOnnxInitializers, type PatchParameter } from './onnx-patch';
import type { TrainableBert } from './trainable-bert';

/** Files of a sentence-transformers folder copied from the base model as they are (when it has them). */
const COPIED_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
  '1_Pooling/config.json',
];

/** What the model card reports. */
export interface ModelCard {
  baseModel: string;
  trainData: string;
  trainPairs: number;
  evalData?: string;
  loss: string;
  hyperparameters: Record<string, unknown>;
  evaluations: { epoch: number; metric: string; value: number }[];
  baseline?: { metric: string; value: number };
  runtime: string;
  trainSeconds: number;
}

/** What {@link writeModelFolder} wrote. */
export interface WrittenFolder {
  files: string[];
  /** Initializers of onnx/model.onnx replaced by trained weights (undefined when no ONNX graph was written). */
  onnxInitializers?: number;
}

function readme(card: ModelCard, onnx: boolean): string {
  const rows = Object.entries(card.hyperparameters).map(([key, value]) => `| ${key} | ${typeof value === 'string' ? value : JSON.stringify(value)} |`);
  const evals = card.evaluations.map((evaluation) => `| ${evaluation.epoch} | ${evaluation.metric} | ${evaluation.value.toFixed(4)} |`);
  return [
    '---',
    'library_name: sentence-transformers',
    'pipeline_tag: sentence-similarity',
    `base_model: ${card.baseModel}`,
    'tags: [sentence-transformers, sentence-similarity, embedder-finetune]',
    '---',
    '',
    `# Fine-tuned ${card.baseModel}`,
    '',
    `Fine-tuned with \`embedder finetune\` (TensorFlow.js, ${card.runtime}) in ${card.trainSeconds.toFixed(1)} s.`,
    '',
    `- Base model: ${card.baseModel}`,
    `- Training data: ${card.trainData} (${card.trainPairs} pairs)`,
    `- Loss: ${card.loss}`,
    card.evalData ? `- Evaluation data: ${card.evalData}` : '- Evaluation data: none given',
    `- Files: model.safetensors${onnx ? ', onnx/model.onnx (the base model\'s ONNX graph carrying the fine-tuned weights)' : ' (no ONNX graph: the base model folder had none)'}`,
    '',
    '## Hyperparameters',
    '',
    '| name | value |',
    '|---|---|',
    ...rows,
    '',
    '## Evaluation',
    '',
    card.baseline ? `Before training: ${card.baseline.metric} ${card.baseline.value.toFixed(4)}.` : '',
    '',
    ...(evals.length > 0 ? ['| epoch | metric | value |', '|---|---|---|', ...evals] : ['No evaluation data was given.']),
    '',
  ].join('\n');
}

/**
 * Writes a complete sentence-transformers folder for the trained model: model.safetensors (the trained encoder
 * under unprefixed names, plus the base file's pooler and position_ids as they were), the base model's configs
 * and tokenizer files, README.md, and onnx/model.onnx when an ONNX graph of the base model is at hand (its
 * initializers replaced by the trained weights). Every file is written atomically.
 */
export async function writeModelFolder(model: TrainableBert, output: string, card: ModelCard, onnxTemplate?: string): Promise<WrittenFolder> {
  await mkdir(output, { recursive: true });
  const files: string[] = [];
  const trained = await model.parameterValues();
  const tensors: TensorToWrite[] = [];
  for (const [name, values] of trained) tensors.push(float32Tensor(name, model.parameters.get(name)!.shape, values));
  for (const name of ['pooler.dense.weight', 'pooler.dense.bias', 'embeddings.position_ids']) {
    const stored = model.storedName(name);
    if (stored === undefined) continue;
    const info = model.source.info(stored)!;
    tensors.push({ name, dtype: info.dtype, shape: info.shape, bytes: model.source.rawBytes(stored) });
  }
  await writeFileAtomic(join(output, 'model.safetensors'), writeSafetensors(tensors));
  files.push('model.safetensors');

  for (const file of COPIED_FILES) {
    const from = join(model.spec.dir, file);
    if (!existsSync(from)) continue;
    await mkdir(dirname(join(output, file)), { recursive: true });
    if (file === 'sentence_bert_config.json') {
      // The length trained at is the model's length from now on.
      const config = JSON.parse(await readFile(from, 'utf8')) as Record<string, unknown>;
      await writeFileAtomic(join(output, file), `${JSON.stringify({ ...config, max_seq_length: model.spec.maxSeqLength }, null, 2)}\n`);
    } else {
      await writeFileAtomic(join(output, file), await readFile(from));
    }
    files.push(file);
  }

  // A plain transformers folder becomes a sentence-transformers one: Transformer → Pooling (as loaded) → Normalize.
  if (!files.includes('modules.json')) {
    const modules = [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ...(model.spec.normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
    ];
    await writeFileAtomic(join(output, 'modules.json'), `${JSON.stringify(modules, null, 2)}\n`);
    files.push('modules.json');
  }
  if (!files.includes('1_Pooling/config.json')) {
    const mode = model.spec.pooling;
    const pooling = {
      word_embedding_dimension: model.config.hiddenSize,
      pooling_mode_cls_token: mode === 'cls',
      pooling_mode_mean_tokens: mode === 'mean',
      pooling_mode_max_tokens: mode === 'max',
      pooling_mode_mean_sqrt_len_tokens: false,
    };
    await mkdir(join(output, '1_Pooling'), { recursive: true });
    await writeFileAtomic(join(output, '1_Pooling', 'config.json'), `${JSON.stringify(pooling, null, 2)}\n`);
    files.push('1_Pooling/config.json');
  }
  if (!files.includes('sentence_bert_config.json')) {
    await writeFileAtomic(join(output, 'sentence_bert_config.json'), `${JSON.stringify({ max_seq_length: model.spec.maxSeqLength, do_lower_case: false }, null, 2)}\n`);
    files.push('sentence_bert_config.json');
  }

  let onnxInitializers: number | undefined;
  const template = onnxTemplate ?? join(model.spec.dir, 'onnx', 'model.onnx');
  if (existsSync(template)) {
    const bytes = new Uint8Array(await readFile(template));
    const parameters: PatchParameter[] = [];
    for (const [name, values] of trained) {
      parameters.push({ name, shape: model.parameters.get(name)!.shape, base: model.source.float32(model.storedName(name)!), trained: values });
    }
    for (const name of ['pooler.dense.weight', 'pooler.dense.bias']) {
      const stored = model.storedName(name);
      if (stored === undefined) continue;
      const values = model.source.float32(stored);
      parameters.push({ name, shape: model.source.info(stored)!.shape, base: values, trained: values });
    }
    const patched = patchOnnxInitializers(bytes, template, parameters);
    onnxInitializers = patched.matches.length;
    await mkdir(join(output, 'onnx'), { recursive: true });
    await writeFileAtomic(join(output, 'onnx', 'model.onnx'), patched.bytes);
    files.push('onnx/model.onnx');
  }
  await writeFileAtomic(join(output, 'README.md'), readme(card, onnxInitializers !== undefined));
  files.push('README.md');
  return onnxInitializers === undefined ? { files } : { files, onnxInitializers };
}
