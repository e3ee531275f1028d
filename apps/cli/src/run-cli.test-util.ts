import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelRoot, repoRoot } from '@embedder-rag/test-fixtures';

/** The built CLI: integration tests run what users run (`pnpm test` builds first). */
export const binPath = join(repoRoot, 'apps/cli/dist/bin.js');

/** What a finished CLI run produced. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of every spawned CLI: the shared models, and a Hugging Face endpoint that refuses connections
 * with an empty cache, so no test can reach a public host.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing: build the CLI first (pnpm build)`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    EMBEDDER_MODEL_PATH: modelRoot(),
    HF_ENDPOINT: 'http://127.0.0.1:9',
    HF_HUB_CACHE: mkdtempSync(join(tmpdir(), 'embedder-cli-hf-')),
    ...extra,
  };
  return env;
}

/** Starts the CLI without waiting for it. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = cliEnv()): ChildProcess {
  return spawn(process.execPath, [binPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs the CLI to the end, feeding `stdin` (closed at once when undefined). */
export function runCli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const child = spawnCli(args, options.env ?? cliEnv());
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin!.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
}

/** One line of `embedder embed` output. */
export interface EmbeddingLine {
  index: number;
  id?: unknown;
  embedding: number[];
}

/** Parses JSON lines (the last line ends with a newline, so the final empty piece is dropped). */
export function parseLines<T>(text: string): T[] {
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('output does not end with a newline');
  return lines.slice(0, -1).map((line) => JSON.parse(line) as T);
}
