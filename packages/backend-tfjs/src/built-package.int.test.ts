import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { l2NormalizeRows } from '@embedder-rag/core';
import { loadTinyBertReference, maxAbsDiff, modelDir } from '@embedder-rag/test-fixtures';
import { expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// Vitest loads tfjs-core's ESM entry; plain Node loads its Node bundle, which differs (e.g. no chained Tensor
// methods). This runs the built package the way an app does. `pnpm test` builds before running the tests.
it('runs from the built package in plain Node and gives the reference vectors', () => {
  const entry = join(packageDir, 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run pnpm build first`);
  const script = `
    const { tfjsBackend } = await import(${JSON.stringify(entry)});
    const backend = await tfjsBackend().create();
    await backend.init();
    const dir = ${JSON.stringify(modelDir('test-fixtures/tiny-bert'))};
    const config = JSON.parse((await import('node:fs')).readFileSync(dir + '/config.json', 'utf8'));
    const spec = { id: 'tiny-bert', dir, architecture: 'bert', hiddenSize: 16, dimension: 16, maxSeqLength: 128, pooling: 'mean', normalize: true, dense: [], config };
    const session = await backend.createSession(spec, { dtype: 'fp32', device: 'cpu' });
    const ids = [101, 7592, 2088, 102];
    const out = await session.run({ inputIds: BigInt64Array.from(ids.map(BigInt)), attentionMask: BigInt64Array.from(ids.map(() => 1n)), tokenTypeIds: new BigInt64Array(4), batchSize: 1, sequenceLength: 4 });
    console.log(JSON.stringify({ runtime: session.info.runtime, vector: [...out] }));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8' });
  const result = JSON.parse(output.trim().split('\n').pop()!) as { runtime: string; vector: number[] };
  expect(result.runtime).toMatch(/^tfjs-wasm /);
  const hello = loadTinyBertReference().find((row) => row.text === 'hello world')!;
  expect(maxAbsDiff(l2NormalizeRows(Float32Array.from(result.vector), 16), hello.mean)).toBeLessThanOrEqual(1e-5);
});
