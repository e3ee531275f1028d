import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFamilyReference, maxAbsDiff, modelDir, startRedis, type TestRedis } from '@embedder-rag/test-fixtures';
import { parseLines, runCli, spawnCli, type EmbeddingLine } from './run-cli.test-util';

// `embedder embed --queue --prompt-name`: a real redis-server, an `embedder worker` process and the producer, with
// tiny-xlm-roberta (prompts query:/passage:), whose reference holds sentence-transformers' vectors for prompt_name query.
const dir = mkdtempSync(join(tmpdir(), 'embedder-cli-queue-prompt-'));
const xlmr = modelDir('test-fixtures/tiny-xlm-roberta');
const rows = loadFamilyReference('tiny-xlm-roberta').filter((row) => row.prompt_name === 'query');
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('embed --queue with a prompt', () => {
  it("passes --prompt-name to the workers (vectors equal sentence-transformers'); an unknown name fails before any job", async () => {
    const worker = spawnCli(['worker', '--queue', redis.url, '--model', xlmr, '--threads', '1', '--stalled-interval', '1000', '--lock-duration', '8000']);
    worker.stdin!.end();
    let workerErr = '';
    const ready = new Promise<void>((resolve, reject) => {
      worker.stderr!.on('data', (data: Buffer) => {
        workerErr += data.toString();
        if (workerErr.includes('embedder worker: ready')) resolve();
      });
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:\n${workerErr}`)));
    });
    try {
      await ready;
      const input = join(dir, 'queries.jsonl');
      writeFileSync(input, rows.map((row) => JSON.stringify({ text: row.text })).join('\n') + '\n');
      const output = join(dir, 'out.jsonl');
      const run = await runCli(['embed', '--queue', redis.url, '--input', input, '--output', output, '--model', xlmr, '--prompt-name', 'query']);
      expect(run.code, run.stderr).toBe(0);
      const lines = parseLines<EmbeddingLine>(readFileSync(output, 'utf8'));
      expect(lines).toHaveLength(rows.length);
      const worst = Math.max(...rows.map((row, i) => maxAbsDiff(lines[i]!.embedding, row.embedding)));
      expect(worst).toBeLessThanOrEqual(1e-5);
      console.info(`embed --queue --prompt-name query: worst max abs diff vs sentence-transformers ${worst.toExponential(2)} over ${rows.length} rows`);

      const before = JSON.parse((await runCli(['queue', 'status', '--queue', redis.url])).stdout) as { results: number };
      const unknown = await runCli(['embed', '--queue', redis.url, '--model', xlmr, '--prompt-name', 'nope', 'some text']);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toMatch(/^embedder: INVALID_INPUT: prompt name 'nope' is unknown: model '.*' defines the prompts query, passage/);
      const after = JSON.parse((await runCli(['queue', 'status', '--queue', redis.url])).stdout) as { results: number; jobs: Record<string, number> };
      expect(after.results).toBe(before.results);
      expect(after.jobs).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    } finally {
      if (worker.exitCode === null && worker.signalCode === null) {
        const exited = once(worker, 'exit');
        worker.kill('SIGTERM');
        await exited;
      }
    }
  });
});
