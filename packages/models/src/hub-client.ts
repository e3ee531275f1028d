import { setTimeout as sleep } from 'node:timers/promises';
import { EmbedderError, type Logger } from '@embedder-rag/core';

/** How to reach the Hub. */
export interface HubContext {
  /** Base URL, e.g. `https://huggingface.co`, without a trailing slash. */
  endpoint: string;
  token?: string;
  signal?: AbortSignal;
  /** Extra attempts after a network error, 429 or 5xx. */
  retries: number;
  /** First pause between attempts, in ms; doubles each time. */
  retryDelayMs: number;
  logger: Logger;
}

/** What the Hub says about one file before it is downloaded. */
export interface HubFileMetadata {
  /** The commit the revision resolved to (`X-Repo-Commit`). */
  commit: string;
  /** The blob name in the cache: the LFS sha256 or the git blob id. */
  etag: string;
  /** Expected size in bytes (`X-Linked-Size` / `Content-Length`). */
  size?: number;
  /** Expected sha256 (hex), when the etag is one. */
  sha256?: string;
  /** Where the bytes are: the resolve URL or, for LFS files, the CDN URL it redirects to. */
  downloadUrl: string;
}

/** A request the Hub could not be reached for (connection refused, DNS, reset), after retries. */
export class HubNetworkError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${reason}`, options);
    this.name = 'HubNetworkError';
  }
}

/** The Hub answered 404 for a file (the repo and revision exist). */
export class HubEntryNotFound extends Error {
  constructor(readonly url: string) {
    super(`${url}: 404 not found`);
    this.name = 'HubEntryNotFound';
  }
}

/** `${endpoint}/${repoId}/resolve/${revision}/${file}` with each path part escaped. */
export function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  const escape = (path: string) => path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${escape(repoId)}/resolve/${encodeURIComponent(revision)}/${escape(file)}`;
}

/** The reason under undici's generic "fetch failed". */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown; code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.message === 'string' && cause.message !== '') return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}

function headersFor(ctx: HubContext, url: string, extra: Record<string, string>): Record<string, string> {
  // Compressed transfer would make Content-Length disagree with the bytes written.
  const headers: Record<string, string> = { 'accept-encoding': 'identity', ...extra };
  // The token goes to the Hub only, never to the CDN an LFS file redirects to.
  if (ctx.token && new URL(url).origin === new URL(ctx.endpoint).origin) {
    headers.authorization = `Bearer ${ctx.token}`;
  }
  return headers;
}

/**
 * Sends a request, retrying network errors, 429 and 5xx with a doubling pause. Returns the last response (which
 * may still be 5xx); throws {@link HubNetworkError} when the host cannot be reached at all.
 */
export async function hubRequest(
  ctx: HubContext,
  url: string,
  init: { method?: string; headers?: Record<string, string>; redirect?: 'follow' | 'manual' },
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    ctx.signal?.throwIfAborted();
    let response: Response | undefined;
    let failure: unknown;
    try {
      response = await fetch(url, {
        method: init.method ?? 'GET',
        headers: headersFor(ctx, url, init.headers ?? {}),
        redirect: init.redirect ?? 'follow',
        signal: ctx.signal,
      });
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      failure = error;
    }
    const retryable = response === undefined || response.status === 429 || response.status >= 500;
    if (!retryable) return response as Response;
    if (attempt >= ctx.retries) {
      if (response !== undefined) return response;
      throw new HubNetworkError(url, networkReason(failure), { cause: failure });
    }
    ctx.logger.debug('hub request failed, retrying', {
      url,
      status: response?.status,
      reason: failure === undefined ? undefined : networkReason(failure),
      attempt: attempt + 1,
    });
    await response?.body?.cancel();
    await sleep(ctx.retryDelayMs * 2 ** attempt, undefined, { signal: ctx.signal });
  }
}

/** Throws the EmbedderError an HTTP failure status means; returns for 2xx/3xx. */
export function checkStatus(response: Response, url: string, repoId: string): void {
  const status = response.status;
  if (status < 400) return;
  const errorCode = response.headers.get('x-error-code') ?? undefined;
  const details = { url, status, errorCode };
  if (errorCode === 'RepositoryNotFound') {
    throw new EmbedderError(
      'MODEL_NOT_FOUND',
      `repository '${repoId}' was not found at ${new URL(url).origin} (HTTP ${status}); if it is private, set HF_TOKEN`,
      { details },
    );
  }
  if (errorCode === 'RevisionNotFound') {
    throw new EmbedderError('MODEL_NOT_FOUND', `${url}: revision not found in '${repoId}' (HTTP ${status})`, {
      details,
    });
  }
  if (status === 404) throw new HubEntryNotFound(url);
  if (status === 401 || status === 403) {
    throw new EmbedderError(
      'DOWNLOAD_FAILED',
      `${url} answered HTTP ${status}: the repository is private or gated; set HF_TOKEN to a token with access`,
      { details },
    );
  }
  throw new EmbedderError('DOWNLOAD_FAILED', `${url} answered HTTP ${status}${status >= 500 ? ' (server error)' : ''}`, {
    details,
  });
}

function cleanEtag(value: string | null): string | undefined {
  if (value === null) return undefined;
  const etag = value.replace(/^W\//, '').replace(/^"|"$/g, '');
  return etag === '' ? undefined : etag;
}

function sizeHeader(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Asks the Hub about a file with a HEAD request that does not follow the LFS redirect, so the headers that name the
 * content (`X-Repo-Commit`, `X-Linked-Etag`, `X-Linked-Size`) are read from the Hub itself, not from the CDN.
 * Throws {@link HubEntryNotFound} for a 404, EmbedderError for other failures.
 */
export async function fetchFileMetadata(
  ctx: HubContext,
  repoId: string,
  revision: string,
  file: string,
): Promise<HubFileMetadata> {
  let url = resolveUrl(ctx.endpoint, repoId, revision, file);
  for (let hop = 0; hop < 5; hop++) {
    const response = await hubRequest(ctx, url, { method: 'HEAD', redirect: 'manual' });
    checkStatus(response, url, repoId);
    const location = response.headers.get('location');
    const isRedirect = response.status >= 300 && response.status < 400 && location !== null;
    const linkedEtag = response.headers.get('x-linked-etag');
    if (isRedirect && linkedEtag === null) {
      // A renamed repo: the Hub points to the new name; ask again there.
      url = new URL(location, url).toString();
      continue;
    }
    const commit = response.headers.get('x-repo-commit');
    const etag = cleanEtag(linkedEtag ?? response.headers.get('etag'));
    if (commit === null || etag === undefined) {
      throw new EmbedderError(
        'DOWNLOAD_FAILED',
        `${url} sent no ${commit === null ? 'X-Repo-Commit' : 'ETag'} header; is ${ctx.endpoint} a Hugging Face Hub?`,
        { details: { url } },
      );
    }
    const size = sizeHeader(response.headers.get('x-linked-size')) ?? sizeHeader(response.headers.get('content-length'));
    const metadata: HubFileMetadata = {
      commit,
      etag,
      downloadUrl: isRedirect ? new URL(location, url).toString() : url,
    };
    if (size !== undefined) metadata.size = size;
    if (/^[0-9a-f]{64}$/.test(etag)) metadata.sha256 = etag;
    return metadata;
  }
  throw new EmbedderError('DOWNLOAD_FAILED', `${url}: too many redirects`, { details: { url } });
}
