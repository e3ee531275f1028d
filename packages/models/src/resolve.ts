import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import {
  EmbedderError,
  findBuiltinModel,
  isEmbedderError,
  noopLogger,
  type Logger,
  type ModelType,
} from '@embedder-rag/core';
import type { DownloadProgress } from './blob-download';
import { cachedCommit, hubCacheDir, missingFromSnapshot, repoCacheDir } from './hub-cache';
import { HubNetworkError, type HubContext } from './hub-client';
import { downloadSnapshot } from './snapshot-download';

/** Where {@link resolveModel} looks and how it downloads. */
export interface ResolveModelOptions {
  /** A folder holding model folders. @default process.env.EMBEDDER_MODEL_PATH */
  modelPath?: string;
  /** Never download. @default HF_HUB_OFFLINE is set to 1/true */
  offline?: boolean;
  /** The Hub's base URL. @default process.env.HF_ENDPOINT ?? 'https://huggingface.co' */
  endpoint?: string;
  /** Access token for private or gated repos. @default process.env.HF_TOKEN */
  token?: string;
  /** The Hugging Face cache folder. @default {@link hubCacheDir} (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub) */
  cacheDir?: string;
  /** Branch, tag or commit sha. @default 'main' */
  revision?: string;
  /**
   * Weight files needed, as alternative groups (`Backend.weightFiles(dtype)`, e.g. `[['onnx/model.onnx']]`): a cached
   * snapshot must hold one file of each group, and a download fetches the first alternative the Hub has.
   * @default [] (configs and tokenizer only)
   */
  files?: readonly (readonly string[])[];
  /** Called as download bytes arrive. The library never prints; the CLI draws a bar from this. */
  onProgress?: (progress: DownloadProgress) => void;
  /** @default noopLogger */
  logger?: Logger;
  /** Aborts a download; the partial file is kept and resumed next time. */
  signal?: AbortSignal;
  /** Extra attempts after a network error or an HTTP 429/5xx. @default 2 */
  retries?: number;
  /** First pause between attempts, in ms (doubles each time). @default 500 */
  retryDelayMs?: number;
}

/** A model folder found or downloaded by {@link resolveModel}. */
export interface ResolvedModel {
  /** Absolute path of the folder in Hugging Face layout. */
  dir: string;
  /** The name the model was asked for (a built-in's id, a custom model's name, or the string given). */
  id: string;
  /** Hugging Face repo id, when known. */
  repoId?: string;
  /** Commit sha, for folders from the Hugging Face cache. */
  revision?: string;
  /** Where the folder came from. */
  source: 'path' | 'model-path' | 'hf-cache' | 'download';
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function looksLikePath(name: string): boolean {
  return isAbsolute(name) || /^(\.{1,2}|~)([\\/]|$)/.test(name);
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function isRepoId(name: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(name) && !name.includes('..');
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

function notFound(message: string, looked: string[], details: Record<string, unknown> = {}): EmbedderError {
  return new EmbedderError('MODEL_NOT_FOUND', message, { details: { ...details, looked } });
}

/** What a MODEL_NOT_FOUND message adds about the model path, so a user learns the one setting that fixes it. */
function modelPathHint(modelPath: string | undefined, fromEnv: boolean): string {
  if (modelPath === undefined || modelPath === '') {
    return '; EMBEDDER_MODEL_PATH is not set: point it at a folder holding model folders (e.g. all-MiniLM-L6-v2/)';
  }
  return fromEnv ? ` (EMBEDDER_MODEL_PATH=${modelPath})` : ` (model path ${modelPath})`;
}

/**
 * Finds a model folder, in this order: (a) an existing folder path (or a custom model's `path`); (b) under
 * `modelPath`, the name itself, a built-in's folder name, or a repo id's last part; (c) the Hugging Face cache
 * snapshot of the revision, when it holds every needed file; (d) a download from the Hub into that cache, unless
 * offline. Throws MODEL_NOT_FOUND listing every place looked, DOWNLOAD_FAILED when a download breaks.
 */
export async function resolveModel(model: ModelType, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const logger = options.logger ?? noopLogger;
  const looked: string[] = [];

  let name: string;
  let id: string;
  if (typeof model === 'object') {
    id = model.name;
    const dir = resolve(expandHome(model.path));
    if (isDirectory(dir)) return { dir, id, source: 'path' };
    // A custom model's path may also be a repo id; only a path-shaped one is final.
    if (looksLikePath(model.path) || !isRepoId(model.path)) {
      throw notFound(`model folder ${dir} (custom model '${model.name}') does not exist`, [dir]);
    }
    name = model.path;
  } else {
    name = model;
    id = model;
    const dir = resolve(expandHome(name));
    if (looksLikePath(name) || isDirectory(dir)) {
      if (isDirectory(dir)) return { dir, id, source: 'path' };
      throw notFound(`model folder ${dir} does not exist`, [dir]);
    }
  }

  const builtin = findBuiltinModel(name);
  if (builtin !== undefined && typeof model !== 'object') id = builtin.id;
  const repoId = builtin?.repoId ?? (isRepoId(name) ? name : undefined);
  const withRepo = (result: ResolvedModel): ResolvedModel => (repoId === undefined ? result : { ...result, repoId });

  // The library honours EMBEDDER_MODEL_PATH itself (like HF_HOME below): a caller need not pass it through.
  const modelPath = options.modelPath ?? process.env.EMBEDDER_MODEL_PATH;
  const hint = modelPathHint(modelPath, options.modelPath === undefined);
  if (modelPath !== undefined && modelPath !== '') {
    const root = resolve(expandHome(modelPath));
    const candidates = new Set([name, builtin?.folderName, repoId, repoId && basename(repoId)]);
    for (const candidate of candidates) {
      if (candidate === undefined || candidate === '') continue;
      const dir = join(root, candidate);
      if (isDirectory(dir)) {
        logger.debug('model found under the model path', { model: name, dir });
        return withRepo({ dir, id, source: 'model-path' });
      }
      looked.push(dir);
    }
  }

  if (repoId === undefined) {
    throw notFound(`model '${name}' was not found (looked in: ${looked.join(', ') || 'no model path set'})${hint}`, looked);
  }

  const revision = options.revision ?? 'main';
  const weightGroups = options.files ?? [];
  const cacheDir = resolve(options.cacheDir ?? hubCacheDir());
  const repoDir = repoCacheDir(cacheDir, repoId);
  const commit = await cachedCommit(repoDir, revision);
  if (commit !== undefined && isDirectory(join(repoDir, 'snapshots', commit))) {
    const dir = join(repoDir, 'snapshots', commit);
    const missing = await missingFromSnapshot(dir, join(repoDir, '.no_exist', commit), weightGroups);
    if (missing.length === 0) {
      logger.debug('model found in the Hugging Face cache', { model: name, dir });
      return withRepo({ dir, id, revision: commit, source: 'hf-cache' });
    }
    looked.push(`${dir} (lacks ${missing.join(', ')})`);
  } else {
    looked.push(`${repoDir} (no snapshot of ${revision})`);
  }

  const offline = options.offline ?? envFlag(process.env.HF_HUB_OFFLINE);
  if (offline) {
    throw notFound(
      `model '${name}' was not found locally (looked in: ${looked.join(', ')}) and downloads are off (offline)${hint}`,
      looked,
      { repoId },
    );
  }

  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const token = options.token ?? (process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined);
  const ctx: HubContext = {
    endpoint,
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 500,
    logger,
  };
  if (token !== undefined) ctx.token = token;
  if (options.signal !== undefined) ctx.signal = options.signal;

  logger.info('downloading model', { repoId, revision, endpoint, cacheDir });
  try {
    const downloaded = await downloadSnapshot({
      ctx,
      cacheDir,
      repoId,
      revision,
      weightGroups,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return withRepo({ dir: downloaded.dir, id, revision: downloaded.commit, source: 'download' });
  } catch (error) {
    const where = `looked in: ${looked.join(', ')}`;
    if (error instanceof HubNetworkError) {
      throw notFound(
        `model '${name}' was not found locally (${where}) and could not be downloaded from ${endpoint}: ${error.reason}${hint}`,
        looked,
        { repoId, endpoint, url: error.url },
      );
    }
    if (isEmbedderError(error, 'MODEL_NOT_FOUND')) {
      throw new EmbedderError('MODEL_NOT_FOUND', `${error.message} (and not found locally; ${where})${hint}`, {
        cause: error,
        details: { ...error.details, looked },
      });
    }
    if (isEmbedderError(error)) throw error;
    if (options.signal?.aborted) {
      throw new EmbedderError('DOWNLOAD_FAILED', `download of '${repoId}' was aborted`, { cause: error });
    }
    throw new EmbedderError('DOWNLOAD_FAILED', `download of '${repoId}' failed: ${(error as Error).message}`, {
      cause: error,
      details: { repoId },
    });
  }
}
