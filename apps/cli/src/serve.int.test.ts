import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference } from '@embedder-rag/test-fixtures';
import { runCli, spawnCli } from './run-cli.test-util';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Until /health answers 200 or the process ends (no time bound: the test's timeout catches a hang). */
async function waitReady(url: string, child: { exitCode: number | null }): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`embedder serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
}

const helloWorld = loadMiniLmReference().find((row) => row.text === 'hello world')!;

describe('embedder serve', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves embeddings until ${signal}, then exits 0`, async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = spawnCli(['serve', '--port', String(port), '--host', '127.0.0.1', '--log-level', 'warn']);
      child.stdin!.end();
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.stdout!.resume();
      const closed = once(child, 'close');
      try {
        await waitReady(url, child);
        const response = await fetch(`${url}/embed`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: 'hello world' }),
        });
        expect(response.status).toBe(200);
        const [vector] = (await response.json()) as number[][];
        expect(cosine(vector!, helloWorld.embedding)).toBeGreaterThanOrEqual(0.99999);
      } finally {
        child.kill(signal);
      }
      const [code, killedBy] = (await closed) as [number | null, string | null];
      // Node process warnings (a dependency's deprecation notice) are not ours; anything else on stderr is a failure.
      const ours = stderr.split('\n').filter((line) => line !== '' && !/^\(node:\d+\) |^\(Use `node --trace-warnings/.test(line));
      expect(ours).toEqual([]);
      expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
    });
  }

  it('fails with one line on a bad server flag', async () => {
    const run = await runCli(['serve', '--port', '99999']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("embedder: INVALID_CONFIG: --port must be a whole number from 0 to 65535, got '99999'\n");
  });

  it('lists the server flags with --help', async () => {
    const run = await runCli(['serve', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: embedder serve/);
    expect(run.stdout).toContain('--port');
  });
});

describe('embedder info', () => {
  it('prints the resolved model, backend and runtime', async () => {
    const run = await runCli(['info', '--dtype', 'q8']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const info = JSON.parse(run.stdout) as { model: { dimension: number; dir: string }; backend: string; runtime: string; dtype: string };
    expect(info.model.dimension).toBe(384);
    expect(info.model.dir).toMatch(/all-MiniLM-L6-v2$/);
    expect(info.backend).toBe('onnx');
    expect(info.runtime).toMatch(/onnxruntime/);
    expect(info.dtype).toBe('q8');
  });
});
