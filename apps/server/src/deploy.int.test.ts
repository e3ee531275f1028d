import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference, repoRoot } from '@embedder-rag/test-fixtures';
import { call, spawnServer, type ChildServer } from './test-helpers';

// No Docker engine runs here, so this replays the image's runtime stage: the same deploy script the Dockerfile
// runs, then `node dist/main.js` from the deployed folder alone (with the models given by EMBEDDER_MODEL_PATH).
describe('deployed server (the Docker runtime stage, replayed)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'embedder-deploy-')), 'server');
  let server: ChildServer | undefined;
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('the Dockerfile runs the same deploy script and entry as this test', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('sh apps/server/scripts/deploy.sh /out/server');
    expect(dockerfile).toMatch(/COPY --from=build \/out\/server \/app/);
    expect(dockerfile).toContain('CMD ["node", "dist/main.js"]');
    expect(dockerfile).toMatch(/^USER embedder$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    expect(dockerfile).toMatch(/^FROM .* AS development$/m);
  });

  it('deploys with production dependencies only, starts from the copy, answers /health and /embed', async () => {
    execFileSync('sh', [join(repoRoot, 'apps/server/scripts/deploy.sh'), out], {
      stdio: 'pipe',
      timeout: 600_000,
      env: { ...process.env, DEPLOY_SKIP_BUILD: '1' },
    });
    expect(existsSync(join(out, 'dist/main.js'))).toBe(true);
    // Dev dependencies stay out of the image.
    expect(existsSync(join(out, 'node_modules/openai'))).toBe(false);
    expect(existsSync(join(out, 'node_modules/@embedder-rag/test-fixtures'))).toBe(false);
    expect(existsSync(join(out, 'node_modules/@embedder-rag/embedder/dist/index.js'))).toBe(true);
    // onnxruntime-node's libraries for other platforms and architectures are pruned (220 MB of darwin + win32).
    const [ort] = readdirSync(join(out, 'node_modules/.pnpm')).filter((name) => name.startsWith('onnxruntime-node@'));
    const bin = join(out, 'node_modules/.pnpm', ort!, 'node_modules/onnxruntime-node/bin/napi-v6');
    expect(readdirSync(bin)).toEqual([process.platform]);
    expect(readdirSync(join(bin, process.platform))).toEqual([process.arch]);
    const bytes = Number(execFileSync('du', ['-sb', out], { encoding: 'utf8' }).split('\t')[0]);
    console.info(`[deploy] runtime stage's /app: ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(150e6);

    server = await spawnServer(join(out, 'dist/main.js'), {}, out);
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    const row = loadMiniLmReference()[0]!;
    const answer = await call<number[][]>(server.url, 'POST', '/embed', { inputs: [row.text] });
    expect(answer.status).toBe(200);
    expect(cosine(answer.body[0]!, row.embedding)).toBeGreaterThanOrEqual(0.99999);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
