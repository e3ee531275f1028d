import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@embedder-rag/test-fixtures';
import { buildServer, spawnServer } from './test-helpers';

/** A stand-in Hub on 127.0.0.1 that answers 404 to everything and counts what it was asked. */
async function startCountingHub(): Promise<{ url: string; paths: string[]; server: Server }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, server };
}

/** Runs dist/main.js until it exits (it must not get ready: its model is nowhere); returns its output. */
async function failedStart(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const failure = await spawnServer(join(repoRoot, 'apps/server/dist/main.js'), env, undefined, 600_000, args).then(
    (server) => {
      server.child.kill('SIGKILL');
      throw new Error('the server got ready with a model that exists nowhere');
    },
    (caught: unknown) => caught as Error,
  );
  return failure.message;
}

describe('embedder-server --offline (a real process, a Hub on 127.0.0.1)', () => {
  let hub: Awaited<ReturnType<typeof startCountingHub>>;
  let temp: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    await buildServer();
    hub = await startCountingHub();
    temp = mkdtempSync(join(tmpdir(), 'embedder-offline-'));
    // An empty Hugging Face cache and a model path that does not exist: the model can only come from the Hub.
    env = { HF_ENDPOINT: hub.url, HF_HOME: join(temp, 'hf'), HF_HUB_CACHE: join(temp, 'hf', 'hub'), EMBEDDER_MODEL_PATH: join(temp, 'no-such-dir') };
  });
  afterAll(async () => {
    await new Promise((resolve) => hub.server.close(resolve));
    rmSync(temp, { recursive: true, force: true });
  });

  it('--offline: exits 1 with one MODEL_NOT_FOUND line saying downloads are off; the Hub is never asked', async () => {
    const output = await failedStart(['--offline', '--model', 'some-org/missing-model'], env);
    expect(output).toMatch(/server exited \(1\) before ready/);
    const last = output.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^embedder-server: MODEL_NOT_FOUND: model 'some-org\/missing-model' was not found locally \(looked in: .*no-such-dir.*\) and downloads are off \(offline\)/);
    expect(output).not.toMatch(/\n\s+at /);
    expect(hub.paths).toEqual([]);
  });

  it('--no-offline beats HF_HUB_OFFLINE=1: the same start asks the Hub (so the check above can fail)', async () => {
    const output = await failedStart(['--no-offline', '--model', 'some-org/missing-model'], { ...env, HF_HUB_OFFLINE: '1' });
    expect(output).toMatch(/server exited \(1\) before ready/);
    expect(hub.paths.length).toBeGreaterThan(0);
    expect(hub.paths[0]).toContain('some-org/missing-model');
  });
});
