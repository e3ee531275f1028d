import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, statSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedderFailure, modelDir } from '@embedder-rag/test-fixtures';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadProgress } from './blob-download';
import { startHubTestServer, type HubTestServer } from './hub-test-server';
import { loadModelSpec } from './model-spec';
import { resolveModel, type ResolveModelOptions } from './resolve';

const TINY = 'test-org/tiny-bert';
const T5 = 'test-org/tiny-sentence-t5';
const PRIVATE = 'test-org/private-bert';
const NO_TOKENIZER = 'test-org/no-tokenizer';
const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
const SAFETENSORS = [['model.safetensors', 'pytorch_model.bin']] as const;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const temps: string[] = [];
let server: HubTestServer;

function tempCache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-hub-cache-'));
  temps.push(dir);
  return dir;
}

function options(cacheDir: string, extra: ResolveModelOptions = {}): ResolveModelOptions {
  // modelPath '': not EMBEDDER_MODEL_PATH, which holds all-MiniLM-L6-v2 and would answer before the Hub.
  return { endpoint: server.url, cacheDir, retryDelayMs: 10, modelPath: '', ...extra };
}

const requestsFor = (file: string) => server.requests.filter((request) => request.path.endsWith(`/${file}`));

beforeAll(async () => {
  const tiny = modelDir('test-fixtures/tiny-bert');
  server = await startHubTestServer({
    token: 'hf_test_token',
    repos: [
      { repoId: TINY, dir: tiny },
      { repoId: T5, dir: modelDir('test-fixtures/tiny-sentence-t5') },
      { repoId: PRIVATE, dir: tiny, private: true },
      { repoId: NO_TOKENIZER, dir: tiny, files: ['config.json', 'model.safetensors'] },
      { repoId: MINILM, dir: modelDir('all-MiniLM-L6-v2') },
    ],
  });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.reset();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('downloading into the Hugging Face cache layout', () => {
  it('writes blobs, relative snapshot links, refs and .no_exist, then reuses them without the network', async () => {
    const cacheDir = tempCache();
    const tiny = modelDir('test-fixtures/tiny-bert');
    const progress: DownloadProgress[] = [];
    const resolved = await resolveModel(TINY, options(cacheDir, { files: [...SAFETENSORS, ['onnx/model.onnx']], onProgress: (p) => progress.push(p) }));
    const commit = server.commitOf(TINY);
    const repoDir = join(cacheDir, 'models--test-org--tiny-bert');
    expect(resolved).toEqual({ dir: join(repoDir, 'snapshots', commit), id: TINY, repoId: TINY, revision: commit, source: 'download' });
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);

    // LFS files are stored under their sha256, others under their git blob id; snapshot entries link there relatively.
    const weights = join(resolved.dir, 'model.safetensors');
    expect(lstatSync(weights).isSymbolicLink()).toBe(true);
    expect(readlinkSync(weights)).toBe(`../../blobs/${sha256(join(tiny, 'model.safetensors'))}`);
    expect(readlinkSync(join(resolved.dir, 'onnx', 'model.onnx'))).toBe(`../../../blobs/${sha256(join(tiny, 'onnx', 'model.onnx'))}`);
    const config = readFileSync(join(tiny, 'config.json'));
    const gitOid = createHash('sha1').update(`blob ${config.length}\0`).update(config).digest('hex');
    expect(readlinkSync(join(resolved.dir, 'config.json'))).toBe(`../../blobs/${gitOid}`);
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'modules.json', 'sentence_bert_config.json', '1_Pooling/config.json', 'model.safetensors', 'onnx/model.onnx']) {
      expect(sha256(join(resolved.dir, file)), file).toBe(sha256(join(tiny, file)));
    }
    // Only the first alternative the Hub has is fetched; files the Hub lacks are remembered as absent.
    expect(existsSync(join(resolved.dir, 'pytorch_model.bin'))).toBe(false);
    expect(existsSync(join(repoDir, '.no_exist', commit, 'config_sentence_transformers.json'))).toBe(true);
    expect(readdirSync(join(repoDir, 'blobs')).filter((name) => name.endsWith('.incomplete'))).toEqual([]);

    // Metadata is asked of the Hub without following the LFS redirect; later files are pinned to the commit.
    expect(requestsFor('config.json')[0]).toMatchObject({ method: 'HEAD', path: `/${TINY}/resolve/main/config.json` });
    expect(requestsFor('tokenizer.json')[0]?.path).toBe(`/${TINY}/resolve/${commit}/tokenizer.json`);
    expect(requestsFor('model.safetensors').map((r) => `${r.method} ${r.server}`)).toEqual(['HEAD hub', 'GET cdn']);

    const last = progress.filter((p) => p.file === 'model.safetensors').at(-1);
    expect(last).toEqual({ file: 'model.safetensors', downloadedBytes: 2_009_416, totalBytes: 2_009_416 });

    const spec = await loadModelSpec(resolved.dir, resolved);
    expect(spec).toMatchObject({ id: TINY, repoId: TINY, revision: commit, hiddenSize: 16, maxSeqLength: 128, pooling: 'mean' });

    // Second call: the snapshot is complete, so nothing is requested (the endpoint is not even reachable).
    const seen = server.requests.length;
    const again = await resolveModel(TINY, { cacheDir, endpoint: 'http://127.0.0.1:9', files: [...SAFETENSORS, ['onnx/model.onnx']] });
    expect(again).toEqual({ ...resolved, source: 'hf-cache' });
    expect(server.requests.length).toBe(seen);
  });

  it('fetches only what an incomplete snapshot lacks, and offline reports what it lacks', async () => {
    const cacheDir = tempCache();
    await resolveModel(TINY, options(cacheDir, { files: SAFETENSORS }));
    const offline = await embedderFailure(resolveModel(TINY, options(cacheDir, { files: [['onnx/model.onnx']], offline: true })));
    expect(offline.code).toBe('MODEL_NOT_FOUND');
    expect(offline.message).toContain('lacks onnx/model.onnx');
    expect(offline.message).toContain('downloads are off');

    const seen = server.requests.length;
    const resolved = await resolveModel(TINY, options(cacheDir, { files: [['onnx/model.onnx']] }));
    expect(resolved.source).toBe('download');
    const fetched = server.requests.slice(seen).map((r) => `${r.method} ${r.path.split('/').slice(-1)[0]}`);
    expect(fetched).toEqual(['HEAD config.json', 'HEAD model.onnx', 'GET model.onnx']);
  });

  it('downloads the Dense module of a sentence-t5 folder', async () => {
    const cacheDir = tempCache();
    const resolved = await resolveModel(T5, options(cacheDir, { files: [['onnx/model.onnx']] }));
    const spec = await loadModelSpec(resolved.dir, resolved);
    expect(spec.dense).toHaveLength(1);
    expect(sha256(spec.dense[0]?.weightsPath ?? '')).toBe(sha256(join(modelDir('test-fixtures/tiny-sentence-t5'), '2_Dense', 'model.safetensors')));
    expect(spec).toMatchObject({ architecture: 't5', maxSeqLength: 256, normalize: true });
  });

  it('downloads the real all-MiniLM-L6-v2 int8 ONNX (23 MB) for the built-in name, sha256 checked', async () => {
    const cacheDir = tempCache();
    const resolved = await resolveModel('all-minilm-l6-v2', options(cacheDir, { files: [['onnx/model_quantized.onnx']] }));
    expect(resolved).toMatchObject({ id: 'all-minilm-l6-v2', repoId: MINILM, source: 'download' });
    expect(resolved.dir).toBe(join(cacheDir, 'models--sentence-transformers--all-MiniLM-L6-v2', 'snapshots', server.commitOf(MINILM)));
    expect(sha256(join(resolved.dir, 'onnx', 'model_quantized.onnx'))).toBe('40793707f552726f6c1f43e125c4323bba7291b25d8c26f8fa26548a45bd92ef');
    expect(existsSync(join(resolved.dir, 'onnx', 'model.onnx'))).toBe(false);
    const spec = await loadModelSpec(resolved.dir, resolved);
    expect(spec).toMatchObject({ dimension: 384, maxSeqLength: 256, pooling: 'mean', normalize: true });
  });
});

describe('resuming', () => {
  it('resumes a download cut mid-file with a Range request and ends with the right sha256', async () => {
    const cacheDir = tempCache();
    server.cutAfter('model.safetensors', 500_000);
    const resolved = await resolveModel(TINY, options(cacheDir, { files: SAFETENSORS }));
    const ranges = requestsFor('model.safetensors').map((r) => r.range).filter(Boolean);
    expect(ranges).toEqual(['bytes=500000-']);
    expect(sha256(join(resolved.dir, 'model.safetensors'))).toBe(sha256(join(modelDir('test-fixtures/tiny-bert'), 'model.safetensors')));
  });

  it('resumes a partial file left by an earlier run, and starts over when the server ignores Range', async () => {
    const original = join(modelDir('test-fixtures/tiny-bert'), 'model.safetensors');
    const digest = sha256(original);
    for (const ignore of [false, true]) {
      const cacheDir = tempCache();
      const blobs = join(cacheDir, 'models--test-org--tiny-bert', 'blobs');
      mkdirSync(blobs, { recursive: true });
      writeFileSync(join(blobs, `${digest}.incomplete`), readFileSync(original).subarray(0, 1_000_000));
      server.ignoreRange(ignore);
      const seen = server.requests.length;
      const resolved = await resolveModel(TINY, options(cacheDir, { files: SAFETENSORS }));
      const gets = server.requests.slice(seen).filter((r) => r.method === 'GET' && r.path.endsWith('/model.safetensors'));
      expect(gets.map((r) => r.range)).toEqual(['bytes=1000000-']);
      expect(sha256(join(resolved.dir, 'model.safetensors'))).toBe(digest);
    }
  });
});

describe('sharing and stopping', () => {
  it('two calls at once download each blob once; a lock left by a dead process is taken over', async () => {
    const cacheDir = tempCache();
    const digest = sha256(join(modelDir('test-fixtures/tiny-bert'), 'model.safetensors'));
    const locks = join(cacheDir, '.locks', 'models--test-org--tiny-bert');
    mkdirSync(locks, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(locks, `${digest}.embedder.lock`), String(dead));
    const seen = server.requests.length;
    const [a, b] = await Promise.all([
      resolveModel(TINY, options(cacheDir, { files: SAFETENSORS })),
      resolveModel(TINY, options(cacheDir, { files: SAFETENSORS })),
    ]);
    expect(a.dir).toBe(b.dir);
    expect(sha256(join(a.dir, 'model.safetensors'))).toBe(digest);
    const cdnGets = server.requests.slice(seen).filter((r) => r.server === 'cdn' && r.method === 'GET');
    expect(cdnGets).toHaveLength(1);
    expect(readdirSync(locks)).toEqual([]);
  });

  it('an abort keeps the partial file, and the next call resumes it', async () => {
    const cacheDir = tempCache();
    const controller = new AbortController();
    const error = await embedderFailure(
      resolveModel(TINY, options(cacheDir, {
        files: SAFETENSORS,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.file === 'model.safetensors' && p.downloadedBytes > 0) controller.abort();
        },
      })),
    );
    expect(error).toEqual({ code: 'DOWNLOAD_FAILED', message: `download of '${TINY}' was aborted` });
    const blobs = join(cacheDir, 'models--test-org--tiny-bert', 'blobs');
    const partial = readdirSync(blobs).find((name) => name.endsWith('.incomplete'));
    expect(partial).toBeDefined();
    const kept = statSync(join(blobs, partial ?? '')).size;
    expect(kept).toBeGreaterThan(0);

    const seen = server.requests.length;
    const resolved = await resolveModel(TINY, options(cacheDir, { files: SAFETENSORS }));
    const ranges = server.requests.slice(seen).filter((r) => r.server === 'cdn').map((r) => r.range);
    expect(ranges).toEqual([`bytes=${kept}-`]);
    expect(sha256(join(resolved.dir, 'model.safetensors'))).toBe(sha256(join(modelDir('test-fixtures/tiny-bert'), 'model.safetensors')));
  });
});

describe('download failures', () => {
  it('MODEL_NOT_FOUND for a required file the Hub lacks, a weight group with no file, an unknown repo', async () => {
    const noTokenizer = await embedderFailure(resolveModel(NO_TOKENIZER, options(tempCache())));
    expect(noTokenizer.code).toBe('MODEL_NOT_FOUND');
    expect(noTokenizer.message).toContain(`'${NO_TOKENIZER}' on ${server.url} has no tokenizer.json`);

    const noWeights = await embedderFailure(resolveModel(TINY, options(tempCache(), { files: [['model.h5', 'flax_model.msgpack']] })));
    expect(noWeights.code).toBe('MODEL_NOT_FOUND');
    expect(noWeights.message).toContain('has none of model.h5, flax_model.msgpack');

    const unknown = await embedderFailure(resolveModel('nobody/nothing', options(tempCache())));
    expect(unknown.code).toBe('MODEL_NOT_FOUND');
    expect(unknown.message).toContain("repository 'nobody/nothing' was not found");

    const badRevision = await embedderFailure(resolveModel(TINY, options(tempCache(), { revision: 'v9' })));
    expect(badRevision.code).toBe('MODEL_NOT_FOUND');
    expect(badRevision.message).toContain('revision not found');
  });

  it('retries a 5xx, then fails with DOWNLOAD_FAILED naming the status', async () => {
    server.failWith('tokenizer.json', 503, 1);
    const recovered = await resolveModel(TINY, options(tempCache()));
    expect(recovered.source).toBe('download');

    const seen = server.requests.length;
    server.failWith('tokenizer.json', 500);
    const error = await embedderFailure(resolveModel(TINY, options(tempCache(), { retries: 2 })));
      expect(error.code).toBe('DOWNLOAD_FAILED');
      expect(error.message).toContain('HTTP 500');
      expect(error.message).toContain('tokenizer.json');
    expect(server.requests.slice(seen).filter((r) => r.path.endsWith('/tokenizer.json'))).toHaveLength(3);
  });

  it('DOWNLOAD_FAILED on a sha256 mismatch, with nothing left in the snapshot or the blobs', async () => {
    const cacheDir = tempCache();
    server.wrongSha('model.safetensors');
    const error = await embedderFailure(resolveModel(TINY, options(cacheDir, { files: SAFETENSORS })));
      expect(error.code).toBe('DOWNLOAD_FAILED');
      const digest = sha256(join(modelDir('test-fixtures/tiny-bert'), 'model.safetensors'));
      expect(error.message).toContain('model.safetensors: sha256 mismatch');
      expect(error.message).toContain(digest);
      const repoDir = join(cacheDir, 'models--test-org--tiny-bert');
      expect(existsSync(join(repoDir, 'snapshots', server.commitOf(TINY), 'model.safetensors'))).toBe(false);
    expect(readdirSync(join(repoDir, 'blobs')).filter((name) => name.length === 64 || name.endsWith('.incomplete'))).toEqual([]);
  });

  it('a private repo needs HF_TOKEN: 401 names it, the token from the environment opens it', async () => {
    const denied = await embedderFailure(resolveModel(PRIVATE, options(tempCache(), { token: 'wrong' })));
    expect(denied.code).toBe('DOWNLOAD_FAILED');
    expect(denied.message).toContain('HTTP 401');
    expect(denied.message).toContain('HF_TOKEN');

    const saved = { token: process.env.HF_TOKEN, endpoint: process.env.HF_ENDPOINT };
    process.env.HF_TOKEN = 'hf_test_token';
    process.env.HF_ENDPOINT = server.url;
    try {
      const seen = server.requests.length;
      const resolved = await resolveModel(PRIVATE, { cacheDir: tempCache(), files: SAFETENSORS });
      expect(resolved.source).toBe('download');
      const sent = server.requests.slice(seen);
      expect(sent.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_test_token')).toBe(true);
      // The token is never sent to the CDN host an LFS file redirects to.
      expect(sent.filter((r) => r.server === 'cdn').every((r) => r.authorization === undefined)).toBe(true);
    } finally {
      for (const [key, value] of [['HF_TOKEN', saved.token], ['HF_ENDPOINT', saved.endpoint]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('MODEL_NOT_FOUND saying where it looked when the Hub cannot be reached', async () => {
    const closed = await startHubTestServer({ repos: [] });
    await closed.close();
    const cacheDir = tempCache();
    const modelPath = modelDir('all-MiniLM-L6-v2');
    const error = await embedderFailure(resolveModel(TINY, { endpoint: closed.url, cacheDir, retryDelayMs: 10, modelPath }));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain(`model '${TINY}' was not found locally (looked in: ${join(modelPath, TINY)}, `);
    expect(error.message).toContain(`could not be downloaded from ${closed.url}: connect ECONNREFUSED`);
  });

  it('offline with an empty cache: MODEL_NOT_FOUND listing every place', async () => {
    const cacheDir = tempCache();
    const error = await embedderFailure(resolveModel(TINY, options(cacheDir, { offline: true, modelPath: modelDir('all-MiniLM-L6-v2') })));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain(join(modelDir('all-MiniLM-L6-v2'), TINY));
    expect(error.message).toContain(join(modelDir('all-MiniLM-L6-v2'), 'tiny-bert'));
    expect(error.message).toContain(`${join(cacheDir, 'models--test-org--tiny-bert')} (no snapshot of main)`);
  });
});
