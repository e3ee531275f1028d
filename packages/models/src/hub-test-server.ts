import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative } from 'node:path';

// A Hugging Face Hub stand-in for tests (not exported from index.ts): serves model folders in the Hub's URL layout
// with the Hub's headers, and can inject the faults a real download meets.

/** One repository the server serves. */
export interface HubTestRepo {
  repoId: string;
  /** The folder whose files are the repo's files. */
  dir: string;
  /** The commit sha `main` resolves to; default: sha1 of the repo id. */
  commit?: string;
  /** Serve only these files (relative paths); default: every file in `dir`. */
  files?: readonly string[];
  /** Answer 401 unless `Authorization: Bearer <token>` carries the server's token. */
  private?: boolean;
}

export interface HubTestServerOptions {
  repos: readonly HubTestRepo[];
  /** The token private repos accept. */
  token?: string;
  /** Answer LFS files with a 302 to a second server standing in for the CDN, as the Hub does. @default true */
  lfsRedirect?: boolean;
}

/** A request the server saw. */
export interface RecordedRequest {
  /** Which server saw it: the Hub or the CDN that LFS files redirect to (another origin). */
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface HubTestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (use as the endpoint / HF_ENDPOINT). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The commit `main` resolves to for a repo. */
  commitOf(repoId: string): string;
  /** The next body of `file` stops after `bytes` bytes and the connection is cut (once). */
  cutAfter(file: string, bytes: number): void;
  /** Requests for `file` answer `status` (the next `times` ones; default every one). */
  failWith(file: string, status: number, times?: number): void;
  /** `file` is announced with a wrong sha256. */
  wrongSha(file: string): void;
  /** Ignore Range headers (answer 200 with the whole file). */
  ignoreRange(on?: boolean): void;
  /** Drops every injected fault. */
  reset(): void;
  close(): Promise<void>;
}

const LFS_EXTENSIONS = new Set(['.onnx', '.safetensors', '.bin', '.h5', '.msgpack', '.pt', '.ot']);

interface FileEntry {
  path: string;
  size: number;
  lfs: boolean;
  sha256?: string;
  gitOid?: string;
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full, base) : [relative(base, full).split('\\').join('/')];
  });
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function gitOidOf(path: string): string {
  const content = readFileSync(path);
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** Starts the server on 127.0.0.1 with a free port. */
export async function startHubTestServer(options: HubTestServerOptions): Promise<HubTestServer> {
  const lfsRedirect = options.lfsRedirect ?? true;
  const repos = new Map(
    options.repos.map((repo) => {
      const commit = repo.commit ?? createHash('sha1').update(repo.repoId).digest('hex');
      const files = new Map<string, FileEntry>();
      for (const file of repo.files ?? listFiles(repo.dir)) {
        const path = join(repo.dir, file);
        files.set(file, { path, size: statSync(path).size, lfs: LFS_EXTENSIONS.has(extname(file)) });
      }
      return [repo.repoId, { repo, commit, files }] as const;
    }),
  );
  const requests: RecordedRequest[] = [];
  const cuts = new Map<string, number>();
  const failures = new Map<string, { status: number; times: number }>();
  const wrongShas = new Set<string>();
  let ignoringRange = false;

  const hashes = (entry: FileEntry): FileEntry => {
    if (entry.lfs) entry.sha256 ??= sha256Of(entry.path);
    else entry.gitOid ??= gitOidOf(entry.path);
    return entry;
  };

  const sendBytes = (req: IncomingMessage, res: ServerResponse, file: string, entry: FileEntry): void => {
    res.setHeader('accept-ranges', 'bytes');
    let start = 0;
    let end = entry.size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !ignoringRange) {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(end, Number(range[2]));
      if (start >= entry.size) {
        res.writeHead(416, { 'content-range': `bytes */${entry.size}` }).end();
        return;
      }
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${entry.size}`);
    } else {
      res.statusCode = 200;
    }
    res.setHeader('content-length', String(end - start + 1));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = cuts.get(file);
    if (cut !== undefined) {
      cuts.delete(file);
      res.flushHeaders();
      const stream = createReadStream(entry.path, { start, end: Math.min(end, start + cut - 1) });
      stream.on('data', (chunk) => res.write(chunk));
      // Give the bytes time to leave before the connection drops mid-body.
      stream.on('end', () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    createReadStream(entry.path, { start, end }).pipe(res);
  };

  let cdnUrl = '';
  const handle = (which: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const recorded: RecordedRequest = { server: which, method: req.method ?? 'GET', path };
    if (req.headers.range) recorded.range = req.headers.range;
    if (req.headers.authorization) recorded.authorization = req.headers.authorization;
    requests.push(recorded);

    const cdn = /^\/cdn-lfs\/(.+)\/([0-9a-f]{40})\/(.+)$/.exec(path);
    if (which === 'cdn' || cdn) {
      if (!cdn) return void res.writeHead(404).end();
      const entry = repos.get(cdn[1] as string)?.files.get(cdn[3] as string);
      if (!entry) return void res.writeHead(404).end();
      res.setHeader('etag', `"${createHash('md5').update(entry.path).digest('hex')}"`);
      return sendBytes(req, res, cdn[3] as string, entry);
    }

    const match = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const found = match ? repos.get(match[1] as string) : undefined;
    if (!match || !found) {
      return void res.writeHead(401, { 'x-error-code': 'RepositoryNotFound' }).end('Repository not found');
    }
    const [, repoId, revision, file] = match as unknown as [string, string, string, string];
    if (found.repo.private && req.headers.authorization !== `Bearer ${options.token}`) {
      return void res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('Access to this repo is restricted');
    }
    if (revision !== 'main' && revision !== found.commit) {
      return void res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
    }
    const failure = failures.get(file);
    if (failure && failure.times > 0) {
      failure.times--;
      return void res.writeHead(failure.status).end(`injected ${failure.status}`);
    }
    const entry = found.files.get(file);
    if (!entry) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    hashes(entry);
    res.setHeader('x-repo-commit', found.commit);
    const announcedSha = wrongShas.has(file)
      ? createHash('sha256').update(`not ${file}`).digest('hex')
      : entry.sha256;
    if (entry.lfs) {
      res.setHeader('x-linked-etag', `"${announcedSha}"`);
      res.setHeader('x-linked-size', String(entry.size));
      if (lfsRedirect) {
        const location = `${cdnUrl}/cdn-lfs/${repoId}/${found.commit}/${file}`;
        return void res.writeHead(302, { location, 'content-length': '0' }).end();
      }
      res.setHeader('etag', `"${announcedSha}"`);
    } else {
      res.setHeader('etag', wrongShas.has(file) ? `"${announcedSha}"` : `"${entry.gitOid}"`);
    }
    sendBytes(req, res, file, entry);
  };

  const listen = async (which: 'hub' | 'cdn'): Promise<{ server: Server; url: string }> => {
    const server = createServer((req, res) => handle(which, req, res));
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const hub = await listen('hub');
  const cdnServer = await listen('cdn');
  cdnUrl = cdnServer.url;
  const stop = (server: Server) =>
    new Promise<void>((resolveClose) => {
      server.closeAllConnections();
      server.close(() => resolveClose());
    });

  return {
    url: hub.url,
    requests,
    commitOf: (repoId) => {
      const repo = repos.get(repoId);
      if (!repo) throw new Error(`unknown test repo ${repoId}`);
      return repo.commit;
    },
    cutAfter: (file, bytes) => void cuts.set(file, bytes),
    failWith: (file, status, times = Number.POSITIVE_INFINITY) => void failures.set(file, { status, times }),
    wrongSha: (file) => void wrongShas.add(file),
    ignoreRange: (on = true) => {
      ignoringRange = on;
    },
    reset: () => {
      cuts.clear();
      failures.clear();
      wrongShas.clear();
      ignoringRange = false;
    },
    close: async () => {
      await Promise.all([stop(hub.server), stop(cdnServer.server)]);
    },
  };
}
