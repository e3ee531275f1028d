import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelRoot, repoRoot } from '@embedder-rag/test-fixtures';

// What a user gets from the registry, checked before anything is published: every public package packed the way
// `pnpm publish` packs it (workspace:* turned into versions, publishConfig applied), linted by publint and
// are-the-types-wrong, and the README's library snippet, taken from README.md itself, run against the tarballs
// installed with npm into an empty folder. Our packages come only from the local tarballs (npm overrides), never
// the registry; third-party ones (onnxruntime-node, zod, …) come from npm's cache or registry as for a user.

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'embedder-packaging-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
}

/** The publishable packages: packages/* without "private". */
const publicPackages = readdirSync(join(repoRoot, 'packages'))
  .map((dir) => ({ dir: join(repoRoot, 'packages', dir), manifest: JSON.parse(readFileSync(join(repoRoot, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.private !== true);

const tarballOf = (manifest: Manifest) => join(tarballs, `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`);

/** The ```ts block of the README's "## Library" section, exactly as written there. */
function readmeSnippet(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library\n'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error('README.md has no ```ts block under "## Library"');
  return match[1]!;
}

beforeAll(async () => {
  const filters = publicPackages.flatMap(({ manifest }) => ['--filter', manifest.name]);
  // One recursive pack (pnpm starts once); dist/ must be built (`pnpm test` builds first).
  await run('pnpm', ['-r', ...filters, 'pack', '--pack-destination', tarballs], { cwd: repoRoot, maxBuffer: 1 << 24 });
}, 300_000);

describe('public packages', () => {
  it('include the facade and everything it depends on; each is packed with README.md, LICENSE and dist/', async () => {
    expect(publicPackages.map(({ manifest }) => manifest.name)).toEqual(
      expect.arrayContaining(['backend-onnx', 'backend-tfjs', 'batch', 'cache', 'core', 'embedder', 'models', 'similarity', 'tokenizer', 'weights'].map((name) => `@embedder-rag/${name}`)),
    );
    for (const { manifest } of publicPackages) {
      const { stdout } = await run('tar', ['-tzf', tarballOf(manifest)]);
      const files = stdout.split('\n');
      expect(files, manifest.name).toEqual(expect.arrayContaining(['package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']));
      // Sources and tests stay out.
      expect(files.filter((file) => file.startsWith('package/src/')), manifest.name).toEqual([]);
    }
  });

  it('pass publint (warnings too) and are-the-types-wrong for ESM consumers', async () => {
    const findings: string[] = [];
    for (const { manifest } of publicPackages) {
      const data = readFileSync(tarballOf(manifest));
      const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
      const { messages, pkg } = await publint({ pack: { tarball }, level: 'warning', strict: true });
      for (const message of messages) findings.push(`${manifest.name}: publint ${message.type}: ${formatMessage(message, pkg) ?? message.code}`);

      const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(data)));
      expect(analysis.types, `${manifest.name} ships types`).not.toBe(false);
      if (analysis.types === false) continue;
      // ESM only: require() of these packages goes through Node's require(esm) (Node >= 22.12), which TypeScript's
      // node10 and node16-from-CJS resolutions do not model, so their findings are the attw `esm-only` profile's.
      const ignored = new Set(['node10', 'node16-cjs']);
      for (const problem of analysis.problems) {
        if ('resolutionKind' in problem && ignored.has(problem.resolutionKind)) continue;
        findings.push(`${manifest.name}: attw ${problem.kind}: ${JSON.stringify(problem)}`);
      }
    }
    expect(findings).toEqual([]);
  }, 300_000);
});

describe('the README library snippet', () => {
  beforeAll(async () => {
    // An empty project as `npm init -y` makes it (CommonJS by default), depending on what the snippet imports.
    const snippet = readmeSnippet();
    const imported = [...new Set([...snippet.matchAll(/from '(@embedder-rag\/[\w-]+)'/g)].map((m) => m[1]!))];
    expect(imported).toEqual(['@embedder-rag/embedder']);
    const overrides = Object.fromEntries(publicPackages.map(({ manifest }) => [manifest.name, `file:${tarballOf(manifest)}`]));
    const dependencies = Object.fromEntries(imported.map((name) => [name, overrides[name]!]));
    rmSync(app, { recursive: true, force: true });
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-app', version: '1.0.0', type: 'commonjs', dependencies, overrides }, null, 2));
    writeFileSync(join(app, 'snippet.mts'), snippet);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: app,
      // onnxruntime-node's install script would only fetch CUDA extras; its CPU binary ships in the package.
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      maxBuffer: 1 << 24,
      timeout: 600_000,
    });
  }, 900_000);

  it('type-checks as written, against the installed packages', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2023',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
        },
        files: ['snippet.mts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((error: { stdout: string }) => error);
    expect('stdout' in result ? result.stdout : '').toBe('');
  }, 120_000);

  it('runs on the real model found through EMBEDDER_MODEL_PATH alone', async () => {
    const { stdout } = await run(process.execPath, ['snippet.mts'], {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, EMBEDDER_MODEL_PATH: modelRoot(), HF_HUB_OFFLINE: '1' },
    });
    const lines = stdout.trim().split('\n');
    // calculateSimilarity of two greetings, then the chunk's id and vector length, then the stats.
    expect(Number(lines[0])).toBeGreaterThan(0.5);
    expect(lines[1]).toBe('handbook#1 384');
    expect(stdout).toContain('totalEmbeddings');
  }, 120_000);

  it('loads with require() from a CommonJS file (Node require(esm))', async () => {
    writeFileSync(join(app, 'index.js'), "const { EmbeddingGenerator, ModelType } = require('@embedder-rag/embedder');\nconsole.log(typeof EmbeddingGenerator.create, ModelType.AllMiniLmL6V2);\n");
    const { stdout, stderr } = await run(process.execPath, ['index.js'], { cwd: app });
    expect(stdout).toBe('function all-minilm-l6-v2\n');
    expect(stderr).toBe('');
  });
});
