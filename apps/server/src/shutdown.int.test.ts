import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedFile } from '@embedder-rag/test-fixtures';
import { buildServer, call, spawnServer, type ChildServer } from './test-helpers';

const long = readFileSync(sharedFile('data/bench/mixed.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { text: string }).text);

// The built process entry (what `pnpm start` and the Docker image run), as a real child process.
describe('dist/main.js', () => {
  let server: ChildServer | undefined;
  const cacheDir = mkdtempSync(join(tmpdir(), 'embedder-shutdown-'));
  beforeAll(async () => {
    await buildServer();
  });
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('fails fast on a bad variable, naming it and the range', async () => {
    const failed = await spawnServer(join(repoRoot, 'apps/server/dist/main.js'), { EMBEDDER_QUEUE_SIZE: '0' }).catch((error: Error) => error);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toContain('EMBEDDER_QUEUE_SIZE must be a whole number from 1 to 100000000');
  });

  it('fails fast on a bad EMBEDDER_MODELS entry or --model: exit 2, one INVALID_CONFIG line naming the entry and the dtypes', async () => {
    const main = join(repoRoot, 'apps/server/dist/main.js');
    const cases = [
      { env: { EMBEDDER_MODELS: 'all-minilm-l6-v2,all-minilm-l6-v2@q4' }, args: [], line: "EMBEDDER_MODELS entry 'all-minilm-l6-v2@q4' has unknown dtype 'q4' after '@' (accepted: fp32, q8, q8-dynamic)" },
      { env: {}, args: ['--model', '@q8'], line: "--model entry '@q8' has no model name before '@' (write name@dtype, e.g. all-minilm-l6-v2@q8)" },
    ];
    for (const { env, args, line } of cases) {
      const failed = (await spawnServer(main, env, undefined, 600_000, args).catch((error: Error) => error)) as Error;
      expect(failed).toBeInstanceOf(Error);
      expect(failed.message).toContain('server exited (2) before ready');
      const stderr = failed.message.split('\n').filter((text) => text.startsWith('embedder-server:'));
      expect(stderr).toEqual([`embedder-server: INVALID_CONFIG: ${line}`]);
    }
  });

  it('SIGTERM with 20 requests in flight: all complete with 200, new connections refused, the cache is flushed, exit 0', async () => {
    // The grace period bounds a drain that takes seconds here and minutes on a machine at load 50: long enough for both.
    const env = { EMBEDDER_CACHE_PATH: join(cacheDir, 'embeddings.cache'), EMBEDDER_SHUTDOWN_GRACE_MS: '600000' };
    server = await spawnServer(join(repoRoot, 'apps/server/dist/main.js'), env);
    const { url } = server;
    expect((await call(url, 'GET', '/ready')).status).toBe(200);
    const inFlight = Array.from({ length: 20 }, (_, i) => call<number[][]>(url, 'POST', '/embed', { inputs: long.slice(i * 8, i * 8 + 8) }));
    // Signal once the server has all 20 requests (te_request_count counts those that reached inference).
    let received = 0;
    let queued = 0;
    while (received < 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const metrics = (await call(url, 'GET', '/metrics')).text;
      received = Number(/^te_request_count\{method="batch"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
      queued = Number(/^te_queue_size (\d+)/m.exec(metrics)?.[1] ?? 0);
    }
    expect(queued).toBeGreaterThan(0);
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    answers.forEach((answer) => expect(answer.body).toHaveLength(8));
    const code = await server.exited;
    console.info(`SIGTERM with 20 requests in flight: all 200, exit ${code} ${Math.round(performance.now() - signalled)} ms after the signal`);
    expect(code).toBe(0);
    // New connections are refused once the signal arrived.
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(server.output.join('\n')).toMatch(/SIGTERM, draining/);
    expect(server.output.join('\n')).toMatch(/"msg":"stopped"/);

    // dispose() flushed the persistent cache: a new process answers the same texts from it.
    server = await spawnServer(join(repoRoot, 'apps/server/dist/main.js'), env);
    const again = await call<number[][]>(server.url, 'POST', '/embed', { inputs: long.slice(0, 8) });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(answers[0]!.body);
    const metrics = (await call(server.url, 'GET', '/metrics')).text;
    expect(Number(/^embedder_cache_hits_total\{model="all-minilm-l6-v2"\} (\d+)/m.exec(metrics)?.[1])).toBe(8);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  });
});
