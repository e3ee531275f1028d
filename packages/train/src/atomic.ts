import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EmbedderError } from '@embedder-rag/core';

/** A temporary name beside `path` (same folder, so rename is atomic on the same file system). */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a file so that a reader (or a run killed half-way) sees the old file or the whole new one, never a
 * part: write to a temporary file beside it, fsync, rename over.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = temporaryPath(path);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}

/** What the file system says when an output cannot be written (the user's to fix, not a bug). */
const OUTPUT_ERRNO: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system or the file size limit',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
};

/**
 * An error from writing `what` as EmbedderError OUTPUT_FAILED when the file system refused it (disk full, quota,
 * permissions, read-only), with `hint` saying what is safe; any other error unchanged.
 */
export function outputError(error: unknown, what: string, hint: string): unknown {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === undefined || !Object.hasOwn(OUTPUT_ERRNO, errno)) return error;
  const path = (error as NodeJS.ErrnoException).path;
  return new EmbedderError('OUTPUT_FAILED', `cannot write ${what}: ${OUTPUT_ERRNO[errno]} (${errno}${path ? ` at ${path}` : ''}); ${hint}`, {
    cause: error,
    details: { errno, ...(path ? { path } : {}) },
  });
}
