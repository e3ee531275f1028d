import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { modelRoot, repoRoot } from '@embedder-rag/test-fixtures';
import { startServer, type RunningServer } from './server';
import type { ServerConfig } from './config';

/** Starts a real server on 127.0.0.1, any free port, with the shared models (tests only). */
export function startTestServer(overrides: Partial<ServerConfig> = {}, env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  return startServer({
    env: { EMBEDDER_MODEL_PATH: modelRoot(), ...env },
    overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', ...overrides },
  });
}

/** One HTTP answer, its body parsed as JSON when it is JSON. */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Sends a request; `body` is JSON-encoded unless it is already a string. */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('application/json') && text !== '') parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** A server started as a real child process. */
export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout then stderr lines). */
  output: string[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/** Spawns `node <entry> [args]` with port 0 on 127.0.0.1 and waits for its "ready" log line (pino JSON on stdout). */
export async function spawnServer(entry: string, env: NodeJS.ProcessEnv = {}, cwd?: string, timeoutMs = 600_000, args: readonly string[] = []): Promise<ChildServer> {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd,
    env: { PATH: process.env.PATH, EMBEDDER_MODEL_PATH: modelRoot(), EMBEDDER_PORT: '0', EMBEDDER_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready after ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'ready' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready:\n${output.join('\n')}`));
    });
  });
  return { url, child, output, exited };
}

/** Builds the server (and what it depends on) with nx, so dist/main.js matches the sources. */
export async function buildServer(): Promise<void> {
  execFileSync('npx', ['nx', 'run', '@embedder-rag/server:build', '--output-style=stream'], {
    cwd: repoRoot,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'pipe',
    timeout: 300_000,
  });
}
