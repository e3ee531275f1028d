import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbedderError } from '@embedder-rag/core';
import { checkStatus, hubRequest, networkReason, type HubContext, type HubFileMetadata } from './hub-client';

/** Progress of one file's download, reported as bytes arrive. */
export interface DownloadProgress {
  /** The file, relative to the model folder (e.g. `onnx/model.onnx`). */
  file: string;
  /** Bytes on disk so far, counting a resumed partial download. */
  downloadedBytes: number;
  /** The file's size, when the Hub sent it. */
  totalBytes?: number;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function progressOf(file: string, downloadedBytes: number, totalBytes: number | undefined): DownloadProgress {
  return totalBytes === undefined ? { file, downloadedBytes } : { file, downloadedBytes, totalBytes };
}

/**
 * Downloads one file into `blobPath`: the bytes go to `<blobPath>.incomplete` (resumed with a Range request when it
 * exists, from an earlier run or after a connection dropped), are checked against the expected size and sha256, and
 * only then renamed into place. A mismatch removes the partial file and throws DOWNLOAD_FAILED naming both values.
 */
export async function downloadBlob(
  ctx: HubContext,
  repoId: string,
  file: string,
  metadata: HubFileMetadata,
  blobPath: string,
  onProgress?: (progress: DownloadProgress) => void,
): Promise<void> {
  const partial = `${blobPath}.incomplete`;
  const total = metadata.size;
  await mkdir(dirname(blobPath), { recursive: true });
  let lastFailure = '';
  for (let attempt = 0; attempt <= ctx.retries; attempt++) {
    let have = await sizeOf(partial);
    if (total !== undefined && have > total) {
      await rm(partial, { force: true });
      have = 0;
    }
    if (total !== undefined && have === total) break;
    if (attempt > 0) await sleep(ctx.retryDelayMs * 2 ** (attempt - 1), undefined, { signal: ctx.signal });
    const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    const response = await hubRequest(ctx, metadata.downloadUrl, { headers });
    if (response.status === 416) {
      // The partial file does not fit what the server has now: start over.
      await response.body?.cancel();
      await rm(partial, { force: true });
      lastFailure = 'HTTP 416 for the resumed range';
      continue;
    }
    checkStatus(response, metadata.downloadUrl, repoId);
    if (response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
      if (start === undefined || Number(start) !== have) {
        await response.body?.cancel();
        await rm(partial, { force: true });
        lastFailure = `resumed at the wrong offset (${response.headers.get('content-range')})`;
        continue;
      }
    } else {
      // 200: the server sent the whole file (it ignored or does not support Range).
      have = 0;
    }
    const handle = await open(partial, have > 0 ? 'a' : 'w');
    let written = have;
    onProgress?.(progressOf(file, written, total));
    try {
      if (response.body === null) throw new Error('empty response body');
      for await (const chunk of response.body) {
        await handle.write(chunk);
        written += chunk.byteLength;
        onProgress?.(progressOf(file, written, total));
      }
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      lastFailure = networkReason(error);
      ctx.logger.debug('download interrupted, will resume', { file, bytes: written, reason: lastFailure });
      continue;
    } finally {
      await handle.close();
    }
    if (total === undefined || written >= total) break;
    lastFailure = `connection closed after ${written} of ${total} bytes`;
  }

  const size = await sizeOf(partial);
  if (total !== undefined && size !== total) {
    if (size > total) await rm(partial, { force: true });
    throw new EmbedderError(
      'DOWNLOAD_FAILED',
      `${file}: downloaded ${size} bytes, expected ${total}${lastFailure ? ` (${lastFailure})` : ''}`,
      { details: { file, expectedBytes: total, actualBytes: size, url: metadata.downloadUrl } },
    );
  }
  if (metadata.sha256 !== undefined) {
    const actual = await sha256File(partial);
    if (actual !== metadata.sha256) {
      await rm(partial, { force: true });
      throw new EmbedderError(
        'DOWNLOAD_FAILED',
        `${file}: sha256 mismatch, expected ${metadata.sha256} but the download has ${actual}`,
        { details: { file, expectedSha256: metadata.sha256, actualSha256: actual, url: metadata.downloadUrl } },
      );
    }
  }
  await rename(partial, blobPath);
}
