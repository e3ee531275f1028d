import { cpSync, mkdtempSync, rmSync, writeFileSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedderFailure, modelDir } from '@embedder-rag/test-fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { loadModelSpec } from './model-spec';

const temps: string[] = [];

/** A writable copy of a shared model folder (the shared tree is read-only and must stay untouched). */
function copyOf(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'embedder-models-')), 'model');
  temps.push(dir, join(dir, '..'));
  cpSync(modelDir(name), dir, { recursive: true, filter: (src) => !/\.(onnx|bin|safetensors)$/.test(src) || src.includes('2_Dense') });
  makeWritable(dir);
  return dir;
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) makeWritable(path);
    else chmodSync(path, 0o644);
  }
}

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadModelSpec on the real model folders', () => {
  it('reads all-MiniLM-L6-v2: bert, 384, 256 tokens, mean, normalized', async () => {
    const dir = modelDir('all-MiniLM-L6-v2');
    const spec = await loadModelSpec(dir, { id: 'all-minilm-l6-v2', repoId: 'sentence-transformers/all-MiniLM-L6-v2' });
    expect(spec).toMatchObject({
      id: 'all-minilm-l6-v2',
      repoId: 'sentence-transformers/all-MiniLM-L6-v2',
      dir,
      architecture: 'bert',
      hiddenSize: 384,
      dimension: 384,
      maxSeqLength: 256,
      pooling: 'mean',
      normalize: true,
      dense: [],
    });
    expect(spec.revision).toBeUndefined();
    expect(spec.config.num_hidden_layers).toBe(6);
  });

  it('reads tiny-bert: hidden 16, 128 tokens, id defaults to the folder name', async () => {
    const spec = await loadModelSpec(modelDir('test-fixtures/tiny-bert'));
    expect(spec).toMatchObject({
      id: 'tiny-bert',
      architecture: 'bert',
      hiddenSize: 16,
      dimension: 16,
      maxSeqLength: 128,
      pooling: 'mean',
      normalize: true,
    });
  });

  it('reads the sentence-transformers 5 format of bge-small: cls pooling, normalize, 384, 512 from the tokenizer config', async () => {
    const spec = await loadModelSpec(modelDir('test-fixtures/bge-small-en-v1.5-configs'));
    expect(spec).toMatchObject({ hiddenSize: 384, dimension: 384, maxSeqLength: 512, pooling: 'cls', normalize: true, dense: [], includePrompt: true });
  });

  it('reads tiny-sentence-t5: d_model, a Dense layer, 256 tokens', async () => {
    const dir = modelDir('test-fixtures/tiny-sentence-t5');
    const spec = await loadModelSpec(dir);
    expect(spec).toMatchObject({
      architecture: 't5',
      hiddenSize: 16,
      dimension: 16,
      maxSeqLength: 256,
      pooling: 'mean',
      normalize: true,
    });
    expect(spec.dense).toEqual([
      {
        weightsPath: join(dir, '2_Dense', 'model.safetensors'),
        inFeatures: 16,
        outFeatures: 16,
        bias: false,
        activation: 'torch.nn.modules.linear.Identity',
      },
    ]);
  });
});

describe('loadModelSpec on edited copies', () => {
  it('takes the dimension from the last Dense layer and caps the length at the position embeddings', async () => {
    const dir = copyOf('test-fixtures/tiny-sentence-t5');
    writeFileSync(
      join(dir, '2_Dense', 'config.json'),
      JSON.stringify({ in_features: 16, out_features: 8, bias: true }),
    );
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 1e30 }));
    const spec = await loadModelSpec(dir);
    expect(spec.dimension).toBe(8);
    expect(spec.dense[0]).toMatchObject({ outFeatures: 8, bias: true, activation: 'torch.nn.modules.activation.Tanh' });
    // T5 has no max_position_embeddings and the tokenizer's 1e30 means "no limit": the fallback applies.
    expect(spec.maxSeqLength).toBe(512);

    const bert = copyOf('test-fixtures/bge-small-en-v1.5-configs');
    writeFileSync(join(bert, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 4096 }));
    expect((await loadModelSpec(bert)).maxSeqLength).toBe(512);
  });

  it('reads the classic cls / max booleans and defaults to mean without a pooling config', async () => {
    const dir = copyOf('test-fixtures/tiny-bert');
    const pooling = join(dir, '1_Pooling', 'config.json');
    writeFileSync(pooling, JSON.stringify({ word_embedding_dimension: 16, pooling_mode_cls_token: true }));
    expect((await loadModelSpec(dir)).pooling).toBe('cls');
    writeFileSync(pooling, JSON.stringify({ word_embedding_dimension: 16, pooling_mode_max_tokens: true }));
    expect((await loadModelSpec(dir)).pooling).toBe('max');
    rmSync(join(dir, '1_Pooling'), { recursive: true });
    rmSync(join(dir, 'modules.json'));
    const plain = await loadModelSpec(dir);
    expect(plain.pooling).toBe('mean');
    expect(plain.normalize).toBe(false);
  });

  it('finds the pooling config through modules.json', async () => {
    const dir = copyOf('test-fixtures/tiny-bert');
    cpSync(join(dir, '1_Pooling'), join(dir, 'pool'), { recursive: true });
    rmSync(join(dir, '1_Pooling'), { recursive: true });
    writeFileSync(join(dir, 'pool', 'config.json'), JSON.stringify({ pooling_mode: 'max' }));
    writeFileSync(
      join(dir, 'modules.json'),
      JSON.stringify([
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: 'pool', type: 'sentence_transformers.models.Pooling' },
      ]),
    );
    const spec = await loadModelSpec(dir);
    expect(spec.pooling).toBe('max');
    expect(spec.normalize).toBe(false);
  });

  it.each([
    [{ pooling_mode: 'lasttoken' }, 'lasttoken'],
    [{ pooling_mode: 'weightedmean' }, 'weightedmean'],
    [{ pooling_mode_mean_sqrt_len_tokens: true }, 'mean_sqrt_len_tokens'],
  ])('reads pooling %j', async (config, mode) => {
    const dir = copyOf('test-fixtures/tiny-bert');
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify(config));
    expect((await loadModelSpec(dir)).pooling).toBe(mode);
  });

  it('rejects concatenated pooling modes as UNSUPPORTED naming the file', async () => {
    const dir = copyOf('test-fixtures/tiny-bert');
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: true }));
    const error = await embedderFailure(loadModelSpec(dir));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain(join(dir, '1_Pooling', 'config.json'));
    expect(error.message).toContain('cls + mean');
  });

  it('reads prompts, default_prompt_name and include_prompt', async () => {
    const xlmr = await loadModelSpec(modelDir('test-fixtures/tiny-xlm-roberta'));
    expect(xlmr).toMatchObject({ architecture: 'xlm-roberta', prompts: { query: 'query: ', passage: 'passage: ' }, includePrompt: true, maxSeqLength: 512 });
    expect(xlmr.defaultPromptName).toBeUndefined();
    const dir = copyOf('test-fixtures/tiny-xlm-roberta');
    writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: { query: 'query: ' }, default_prompt_name: 'query' }));
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode: 'mean', include_prompt: false }));
    expect(await loadModelSpec(dir)).toMatchObject({ prompts: { query: 'query: ' }, defaultPromptName: 'query', includePrompt: false });
    writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: { query: 'query: ' }, default_prompt_name: 'doc' }));
    const error = await embedderFailure(loadModelSpec(dir));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('default_prompt_name');
  });

  it("gives a built-in model's table prompts when its folder defines none (multilingual-e5-small)", async () => {
    const dir = copyOf('test-fixtures/tiny-xlm-roberta');
    rmSync(join(dir, 'config_sentence_transformers.json'));
    expect((await loadModelSpec(dir)).prompts).toEqual({});
    expect((await loadModelSpec(dir, { id: 'multilingual-e5-small' })).prompts).toEqual({ query: 'query: ', passage: 'passage: ' });
  });
});

describe('bad models get typed errors naming the file or field', () => {
  // [case, fixture, edit of the copy (returns the file the error must name), code, further text the message must hold]
  const cases: Array<[string, string, (dir: string) => string, string, string[]]> = [
    ['an unknown pooling mode', 'tiny-bert', (dir) => write(join(dir, '1_Pooling', 'config.json'), { pooling_mode: 'median' }), 'MODEL_INVALID', ['"pooling_mode"', 'median']],
    [
      'a Dense folder without weights',
      'tiny-sentence-t5',
      (dir) => {
        rmSync(join(dir, '2_Dense', 'model.safetensors'));
        return join(dir, '2_Dense');
      },
      'MODEL_INVALID',
      ['model.safetensors or pytorch_model.bin'],
    ],
    [
      'a Dense whose in_features differs from the pooled size',
      'tiny-sentence-t5',
      (dir) => write(join(dir, '2_Dense', 'config.json'), { in_features: 32, out_features: 16, bias: false, activation_function: 'torch.nn.modules.linear.Identity' }),
      'MODEL_INVALID',
      ['"in_features" 32', 'the 16 features'],
    ],
    [
      'a Dense with an activation embedder does not run',
      'tiny-sentence-t5',
      (dir) => write(join(dir, '2_Dense', 'config.json'), { in_features: 16, out_features: 16, activation_function: 'torch.nn.modules.activation.Softsign' }),
      'UNSUPPORTED',
      ['Softsign'],
    ],
    [
      'an unsupported model_type (the supported ones named)',
      'tiny-bert',
      (dir) => write(join(dir, 'config.json'), { model_type: 'gpt2', hidden_size: 16 }),
      'UNSUPPORTED',
      ["'gpt2'", 'bert, distilbert, roberta, xlm-roberta, mpnet, t5'],
    ],
  ];

  function write(file: string, value: unknown): string {
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  it.each(cases)('%s: %s', async (_case, fixture, edit, code, texts) => {
    const dir = copyOf(`test-fixtures/${fixture}`);
    const file = edit(dir);
    const error = await embedderFailure(loadModelSpec(dir));
    expect(error.code).toBe(code);
    for (const text of [file, ...texts]) expect(error.message).toContain(text);
  });
});

describe('loadModelSpec errors', () => {
  it('MODEL_NOT_FOUND for a missing folder', async () => {
    const missing = join(tmpdir(), 'embedder-no-such-model-folder');
    const error = await embedderFailure(loadModelSpec(missing));
    expect(error).toEqual({ code: 'MODEL_NOT_FOUND', message: `model folder ${missing} does not exist` });
  });

  it('MODEL_INVALID without tokenizer.json', async () => {
    const dir = copyOf('test-fixtures/tiny-bert');
    rmSync(join(dir, 'tokenizer.json'));
    expect(await embedderFailure(loadModelSpec(dir))).toEqual({ code: 'MODEL_INVALID', message: `${dir} has no tokenizer.json` });
  });

  it('MODEL_INVALID naming config.json when it is missing or corrupt', async () => {
    const dir = copyOf('test-fixtures/tiny-bert');
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bert", "hidden_size": 1');
    const corrupt = await embedderFailure(loadModelSpec(dir));
    expect(corrupt.code).toBe('MODEL_INVALID');
    expect(corrupt.message).toContain(`${join(dir, 'config.json')} is not valid JSON`);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bert"}');
    const noSize = await embedderFailure(loadModelSpec(dir));
    expect(noSize.message).toContain('hidden_size');
    rmSync(join(dir, 'config.json'));
    expect(await embedderFailure(loadModelSpec(dir))).toEqual({ code: 'MODEL_INVALID', message: `${dir} has no config.json` });
  });

  it('MODEL_INVALID when a Dense layer has no weights or modules.json is corrupt', async () => {
    const dir = copyOf('test-fixtures/tiny-sentence-t5');
    rmSync(join(dir, '2_Dense', 'model.safetensors'));
    const noWeights = await embedderFailure(loadModelSpec(dir));
    expect(noWeights.code).toBe('MODEL_INVALID');
    expect(noWeights.message).toContain(join(dir, '2_Dense'));
    writeFileSync(join(dir, 'modules.json'), '[{"path": "1_Pooling"}]');
    const badModules = await embedderFailure(loadModelSpec(dir));
    expect(badModules.code).toBe('MODEL_INVALID');
    expect(badModules.message).toContain('modules.json');
  });
});
