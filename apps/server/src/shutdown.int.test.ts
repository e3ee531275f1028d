import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedFile } from '@embedder/test-fixtures';
import { buildServer, call, spawnServer, type ChildServer } from './test-helpers';

const long = readFileSync(sharedFile('data/bench/mixed.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { text: string }).text);

// The built process entry (what `pnpm start` and the Docker image run), as a real child process.
describe('dist/main.js', () => {
  let server: ChildServer | undefined;
  beforeAll(async () => {
    await buildServer();
  });
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('fails fast on a bad variable, naming it and the range', async () => {
    const failed = await spawnServer(join(repoRoot, 'apps/server/dist/main.js'), { EMBEDDER_QUEUE_SIZE: '0' }).catch((error: Error) => error);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toContain('EMBEDDER_QUEUE_SIZE must be a whole number from 1 to 100000000');
  });

  it('SIGTERM with 20 requests in flight: all complete with 200, new connections refused, exit 0', async () => {
    server = await spawnServer(join(repoRoot, 'apps/server/dist/main.js'), { EMBEDDER_CACHE_SIZE: '0', EMBEDDER_SHUTDOWN_GRACE_MS: '60000' });
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
    server.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    answers.forEach((answer) => expect(answer.body).toHaveLength(8));
    const code = await server.exited;
    expect(code).toBe(0);
    // New connections are refused once the signal arrived.
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(server.output.join('\n')).toMatch(/SIGTERM, draining/);
    expect(server.output.join('\n')).toMatch(/"msg":"stopped"/);
  });
});
