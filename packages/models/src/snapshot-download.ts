import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { EmbedderError } from '@embedder-rag/core';
import { downloadBlob, type DownloadProgress } from './blob-download';
import { withBlobLock } from './blob-lock';
import { moduleFileGroups, OPTIONAL_FILES, REQUIRED_FILES, repoCacheDir } from './hub-cache';
import { fetchFileMetadata, HubEntryNotFound, type HubContext, type HubFileMetadata } from './hub-client';

/** What {@link downloadSnapshot} fetches and where it writes. */
export interface SnapshotRequest {
  ctx: HubContext;
  cacheDir: string;
  repoId: string;
  revision: string;
  /** Weight-file alternative groups (one file of each). */
  weightGroups: readonly (readonly string[])[];
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Downloads a model's files into the Hugging Face cache layout (blobs/<etag>, snapshots/<commit>/<file> as relative
 * symlinks, refs/<revision>, .no_exist/<commit>/<file> for optional files the Hub lacks) and returns the snapshot
 * folder. Files already in the snapshot are not asked for again. A missing required file throws MODEL_NOT_FOUND.
 */
export async function downloadSnapshot(request: SnapshotRequest): Promise<{ dir: string; commit: string }> {
  const { ctx, repoId, revision } = request;
  const repoDir = repoCacheDir(request.cacheDir, repoId);

  const first = await metadataOrUndefined(request, revision, REQUIRED_FILES[0]);
  if (first === undefined) {
    throw new EmbedderError('MODEL_NOT_FOUND', `'${repoId}' at revision ${revision} on ${ctx.endpoint} has no config.json`, {
      details: { repoId, revision, endpoint: ctx.endpoint },
    });
  }
  // Every later file is asked for at this commit, so the folder is one consistent version even if `main` moves.
  const commit = first.commit;
  const snapshotDir = join(repoDir, 'snapshots', commit);
  const noExistDir = join(repoDir, '.no_exist', commit);
  if (revision !== commit) {
    await mkdir(join(repoDir, 'refs', dirname(revision)), { recursive: true });
    await writeFile(join(repoDir, 'refs', revision), commit);
  }
  await store(request, repoDir, snapshotDir, REQUIRED_FILES[0], first);

  const have = (file: string) => existsSync(join(snapshotDir, file));
  const knownAbsent = (file: string) => existsSync(join(noExistDir, file));

  /** Fetches one file unless present; returns false when the Hub has no such file (recorded in .no_exist). */
  const fetchOne = async (file: string): Promise<boolean> => {
    if (have(file)) return true;
    if (knownAbsent(file)) return false;
    const metadata = await metadataOrUndefined(request, commit, file);
    if (metadata === undefined) {
      await mkdir(dirname(join(noExistDir, file)), { recursive: true });
      await writeFile(join(noExistDir, file), '');
      return false;
    }
    await store(request, repoDir, snapshotDir, file, metadata);
    return true;
  };

  for (const file of REQUIRED_FILES.slice(1)) {
    if (!(await fetchOne(file))) {
      throw new EmbedderError('MODEL_NOT_FOUND', `'${repoId}' on ${ctx.endpoint} has no ${file}`, {
        details: { repoId, file, endpoint: ctx.endpoint },
      });
    }
  }
  for (const file of OPTIONAL_FILES) await fetchOne(file);
  const modules = await moduleFileGroups(snapshotDir);
  for (const file of modules.optional) await fetchOne(file);
  for (const group of [...modules.groups, ...request.weightGroups]) {
    let found = false;
    for (const file of group) {
      if (await fetchOne(file)) {
        found = true;
        break;
      }
    }
    if (!found) {
      throw new EmbedderError(
        'MODEL_NOT_FOUND',
        `'${repoId}' on ${ctx.endpoint} has none of ${group.join(', ')}`,
        { details: { repoId, files: group, endpoint: ctx.endpoint } },
      );
    }
  }
  return { dir: snapshotDir, commit };
}

async function metadataOrUndefined(
  request: SnapshotRequest,
  revision: string,
  file: string,
): Promise<HubFileMetadata | undefined> {
  try {
    return await fetchFileMetadata(request.ctx, request.repoId, revision, file);
  } catch (error) {
    if (error instanceof HubEntryNotFound) return undefined;
    throw error;
  }
}

/** Downloads a blob unless the cache has it, then links it into the snapshot. */
async function store(
  request: SnapshotRequest,
  repoDir: string,
  snapshotDir: string,
  file: string,
  metadata: HubFileMetadata,
): Promise<void> {
  const blobPath = join(repoDir, 'blobs', metadata.etag);
  if (!existsSync(blobPath)) {
    // huggingface_hub keeps its (flock-based) locks in <cache>/.locks too; ours have their own names.
    const lockPath = join(request.cacheDir, '.locks', basename(repoDir), `${metadata.etag}.embedder.lock`);
    await withBlobLock(lockPath, request.ctx.signal, async () => {
      if (existsSync(blobPath)) return;
      request.ctx.logger.debug('downloading', { repoId: request.repoId, file, bytes: metadata.size });
      await downloadBlob(request.ctx, request.repoId, file, metadata, blobPath, request.onProgress);
    });
  }
  const target = join(snapshotDir, file);
  await mkdir(dirname(target), { recursive: true });
  // Link under a temporary name and rename, so a reader never sees a half-made entry.
  const temporary = `${target}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  try {
    await symlink(relative(dirname(target), blobPath), temporary);
  } catch {
    // Where symlinks are not allowed (Windows without developer mode), huggingface_hub copies too.
    await copyFile(blobPath, temporary);
  }
  await rename(temporary, target);
}
