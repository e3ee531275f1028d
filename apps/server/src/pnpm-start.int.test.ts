import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { modelRoot, repoRoot } from '@embedder-rag/test-fixtures';
import { describe, expect, it } from 'vitest';

// `pnpm start` as a user and a process manager run it: pnpm in its own process group (a terminal's foreground job),
// the server under it. Nothing may be left running once pnpm is gone, and Ctrl-C is a clean exit, not a failure.

interface Started {
  pnpm: ReturnType<typeof spawn>;
  output: string[];
  exited: Promise<number | string>;
}

function pnpmStart(env: NodeJS.ProcessEnv = {}, ready = true): Promise<Started> {
  const pnpm = spawn('pnpm', ['start'], {
    cwd: repoRoot,
    detached: true,
    env: { ...process.env, EMBEDDER_MODEL_PATH: modelRoot(), EMBEDDER_PORT: '0', EMBEDDER_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) => pnpm.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  createInterface({ input: pnpm.stderr! }).on('line', (line) => output.push(line));
  const lines = createInterface({ input: pnpm.stdout! });
  lines.on('line', (line) => output.push(line));
  if (!ready) return Promise.resolve({ pnpm, output, exited });
  return new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.includes('"msg":"ready"')) resolve({ pnpm, output, exited });
    });
    void exited.then((code) => reject(new Error(`pnpm start exited (${code}) before ready:\n${output.join('\n')}`)));
  });
}

/** True while any process of the group lives (pnpm and the server it started share it). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGone(pgid: number): Promise<boolean> {
  // Generous: the server drains and closes in about a second; a busy machine may take longer.
  for (let i = 0; i < 300 && groupAlive(pgid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return !groupAlive(pgid);
}

describe('pnpm start', () => {
  it('Ctrl-C (SIGINT to the foreground group): the server drains, pnpm exits 0 without "Command failed"', async () => {
    const started = await pnpmStart();
    process.kill(-started.pnpm.pid!, 'SIGINT');
    expect(await started.exited).toBe(0);
    expect(await groupGone(started.pnpm.pid!)).toBe(true);
    const text = started.output.join('\n');
    expect(text).toContain('SIGINT, draining');
    expect(text).not.toContain('Command failed');
  });

  it('SIGTERM to pnpm alone (a process manager): the server stops with it, exit 0', async () => {
    const started = await pnpmStart();
    started.pnpm.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(await groupGone(started.pnpm.pid!)).toBe(true);
    expect(started.output.join('\n')).toContain('SIGTERM, draining');
  });

  it('SIGKILL to pnpm: the orphaned server notices and stops itself', async () => {
    const started = await pnpmStart();
    started.pnpm.kill('SIGKILL');
    await started.exited;
    expect(await groupGone(started.pnpm.pid!)).toBe(true);
  });

  it('a port in use: one line naming EADDRINUSE, no stack trace, exit code 2', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const { port } = holder.address() as AddressInfo;
      const started = await pnpmStart({ EMBEDDER_PORT: String(port) }, false);
      const code = await started.exited;
      const errors = started.output.filter((line) => line.startsWith('embedder-server:'));
      expect(errors).toEqual([expect.stringContaining(`cannot listen: listen EADDRINUSE: address already in use 127.0.0.1:${port}`)]);
      expect(started.output.join('\n')).not.toMatch(/^\s+at /m);
      expect(code).toBe(2);
    } finally {
      holder.close();
    }
  });
});
