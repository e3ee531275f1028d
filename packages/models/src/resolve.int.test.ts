import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ModelType } from '@embedder-rag/core';
import { embedderFailure, modelDir, modelRoot } from '@embedder-rag/test-fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveModel } from './resolve';

const temps: string[] = [];
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-resolve-'));
  temps.push(dir);
  return dir;
}

/** A Hugging Face cache holding tiny-bert as `org/tiny-bert` at COMMIT, laid out as huggingface_hub writes it. */
function fakeHubCache(repoId: string, skip: readonly string[] = []): string {
  const cacheDir = tempDir();
  const source = modelDir('test-fixtures/tiny-bert');
  const repoDir = join(cacheDir, `models--${repoId.replace('/', '--')}`);
  const snapshot = join(repoDir, 'snapshots', COMMIT);
  mkdirSync(join(repoDir, 'blobs'), { recursive: true });
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  writeFileSync(join(repoDir, 'refs', 'main'), COMMIT);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
  for (const file of walk(source).map((path) => relative(source, path))) {
    if (skip.includes(file)) continue;
    const blob = join(repoDir, 'blobs', file.replaceAll('/', '_'));
    copyFileSync(join(source, file), blob);
    const link = join(snapshot, file);
    mkdirSync(join(link, '..'), { recursive: true });
    symlinkSync(relative(join(link, '..'), blob), link);
  }
  return cacheDir;
}

describe('resolveModel: explicit paths', () => {
  it('takes an absolute or relative folder as it is', async () => {
    const dir = modelDir('test-fixtures/tiny-bert');
    expect(await resolveModel(dir)).toEqual({ dir, id: dir, source: 'path' });
    const rel = relative(process.cwd(), dir);
    expect(await resolveModel(rel)).toEqual({ dir, id: rel, source: 'path' });
  });

  it("takes a custom model's path and name", async () => {
    const dir = modelDir('test-fixtures/tiny-sentence-t5');
    expect(await resolveModel(ModelType.custom('my-t5', dir, 16))).toEqual({ dir, id: 'my-t5', source: 'path' });
  });

  it('MODEL_NOT_FOUND for a path that does not exist, never a download', async () => {
    const missing = join(tempDir(), 'nope');
    expect(await embedderFailure(resolveModel(missing))).toEqual({ code: 'MODEL_NOT_FOUND', message: `model folder ${missing} does not exist` });
    const custom = await embedderFailure(resolveModel(ModelType.custom('mine', './no/such/folder', 8), { endpoint: 'http://127.0.0.1:9' }));
    expect(custom.code).toBe('MODEL_NOT_FOUND');
    expect(custom.message).toContain("(custom model 'mine') does not exist");
  });
});

describe('resolveModel: the model path', () => {
  const minilm = () => modelDir('all-MiniLM-L6-v2');

  it.each(['all-minilm-l6-v2', 'sentence-transformers/all-MiniLM-L6-v2', 'all-MiniLM-L6-v2'])(
    'finds all-MiniLM-L6-v2 spelled %s',
    async (name) => {
      const resolved = await resolveModel(name, { modelPath: modelRoot(), offline: true, cacheDir: tempDir() });
      expect(resolved).toEqual({
        dir: minilm(),
        id: 'all-minilm-l6-v2',
        repoId: 'sentence-transformers/all-MiniLM-L6-v2',
        source: 'model-path',
      });
    },
  );

  it('finds org/name as <modelPath>/org/name and as <modelPath>/name', async () => {
    const nested = await resolveModel('test-fixtures/tiny-bert', { modelPath: modelRoot(), offline: true, cacheDir: tempDir() });
    expect(nested).toMatchObject({ dir: modelDir('test-fixtures/tiny-bert'), repoId: 'test-fixtures/tiny-bert', source: 'model-path' });
    const flat = await resolveModel('some-org/tiny-bert', { modelPath: modelDir('test-fixtures'), offline: true, cacheDir: tempDir() });
    expect(flat).toEqual({ dir: modelDir('test-fixtures/tiny-bert'), id: 'some-org/tiny-bert', repoId: 'some-org/tiny-bert', source: 'model-path' });
  });

  it('prefers the model path over the Hugging Face cache', async () => {
    const cacheDir = fakeHubCache('some-org/tiny-bert');
    const resolved = await resolveModel('some-org/tiny-bert', { modelPath: modelDir('test-fixtures'), cacheDir, offline: true });
    expect(resolved.source).toBe('model-path');
  });
});

describe('resolveModel: the Hugging Face cache', () => {
  it('uses the snapshot refs/main points to, with no network', async () => {
    const cacheDir = fakeHubCache('some-org/tiny-bert');
    const resolved = await resolveModel('some-org/tiny-bert', {
      cacheDir,
      endpoint: 'http://127.0.0.1:9',
      files: [['model.safetensors', 'pytorch_model.bin'], ['onnx/model.onnx']],
    });
    expect(resolved).toEqual({
      dir: join(cacheDir, 'models--some-org--tiny-bert', 'snapshots', COMMIT),
      id: 'some-org/tiny-bert',
      repoId: 'some-org/tiny-bert',
      revision: COMMIT,
      source: 'hf-cache',
    });
  });

  it('takes a commit sha as the revision and reads the cache folder from HF_HUB_CACHE', async () => {
    const cacheDir = fakeHubCache('some-org/tiny-bert');
    const saved = process.env.HF_HUB_CACHE;
    process.env.HF_HUB_CACHE = cacheDir;
    try {
      const resolved = await resolveModel('some-org/tiny-bert', { revision: COMMIT, offline: true });
      expect(resolved).toMatchObject({ revision: COMMIT, source: 'hf-cache' });
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = saved;
    }
  });

  it('does not use a snapshot that lacks a needed file', async () => {
    const cacheDir = fakeHubCache('some-org/tiny-bert', ['onnx/model.onnx', '1_Pooling/config.json']);
    const error = await embedderFailure(resolveModel('some-org/tiny-bert', { cacheDir, offline: true, files: [['onnx/model.onnx']] }));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain('lacks 1_Pooling/config.json, onnx/model.onnx');
    // A pooling config the Hub is known not to have (.no_exist) does not make the snapshot incomplete.
    const noExist = join(cacheDir, 'models--some-org--tiny-bert', '.no_exist', COMMIT, '1_Pooling');
    mkdirSync(noExist, { recursive: true });
    writeFileSync(join(noExist, 'config.json'), '');
    const resolved = await resolveModel('some-org/tiny-bert', { cacheDir, offline: true, files: [['model.safetensors']] });
    expect(resolved.source).toBe('hf-cache');
  });

  it('offline and nowhere: MODEL_NOT_FOUND naming every place looked', async () => {
    const cacheDir = tempDir();
    const error = await embedderFailure(
      resolveModel('all-minilm-l6-v2', { modelPath: modelDir('test-fixtures'), cacheDir, offline: true }),
    );
    expect(error.code).toBe('MODEL_NOT_FOUND');
    for (const place of ['all-minilm-l6-v2', 'all-MiniLM-L6-v2', 'sentence-transformers/all-MiniLM-L6-v2']) {
      expect(error.message).toContain(join(modelDir('test-fixtures'), place));
    }
    expect(error.message).toContain(join(cacheDir, 'models--sentence-transformers--all-MiniLM-L6-v2'));
  });

  it('reads EMBEDDER_MODEL_PATH itself when no modelPath is given, and names it when the model is not there', async () => {
    const saved = process.env.EMBEDDER_MODEL_PATH;
    const [root, minilm, fixtures] = [modelRoot(), modelDir('all-MiniLM-L6-v2'), modelDir('test-fixtures')];
    try {
      process.env.EMBEDDER_MODEL_PATH = root;
      const found = await resolveModel('all-minilm-l6-v2', { cacheDir: tempDir(), offline: true });
      expect(found).toMatchObject({ dir: minilm, source: 'model-path' });

      process.env.EMBEDDER_MODEL_PATH = fixtures;
      const elsewhere = await embedderFailure(resolveModel('all-minilm-l6-v2', { cacheDir: tempDir(), offline: true }));
      expect(elsewhere.message).toContain(join(fixtures, 'all-MiniLM-L6-v2'));
      expect(elsewhere.message).toContain(`(EMBEDDER_MODEL_PATH=${fixtures})`);

      delete process.env.EMBEDDER_MODEL_PATH;
      const unset = await embedderFailure(resolveModel('all-minilm-l6-v2', { cacheDir: tempDir(), offline: true }));
      expect(unset.code).toBe('MODEL_NOT_FOUND');
      expect(unset.message).toContain('EMBEDDER_MODEL_PATH is not set');
      expect(unset.message).toContain('models--sentence-transformers--all-MiniLM-L6-v2');
    } finally {
      if (saved === undefined) delete process.env.EMBEDDER_MODEL_PATH;
      else process.env.EMBEDDER_MODEL_PATH = saved;
    }
  });

  it('a name that is no repo id and no folder: MODEL_NOT_FOUND without a download', async () => {
    const error = await embedderFailure(resolveModel('not a model!', { modelPath: modelRoot(), endpoint: 'http://127.0.0.1:9' }));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain(`model 'not a model!' was not found (looked in: ${join(modelRoot(), 'not a model!')})`);
  });
});
