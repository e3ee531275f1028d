import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from './server';
import { call, startTestServer } from './test-helpers';

// The request-level limits: max_concurrent_requests (429) and max_client_batch_size (413), both named in the answer.
describe('limits', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ maxConcurrentRequests: 2, maxClientBatchSize: 8 }, { EMBEDDER_CACHE_SIZE: '0' });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('more inputs than max_client_batch_size → 413 naming the limit; at the limit → 200', async () => {
    const over = await call<{ error: string; error_type: string }>(base, 'POST', '/embed', { inputs: Array.from({ length: 9 }, (_, i) => `text ${i}`) });
    expect(over.status).toBe(413);
    expect(over.body.error_type).toBe('Validation');
    expect(over.body.error).toContain('batch size 9 > maximum allowed batch size 8 (EMBEDDER_MAX_CLIENT_BATCH_SIZE)');
    const info = await call<{ max_client_batch_size: number; max_concurrent_requests: number }>(base, 'GET', '/info');
    expect(info.body).toMatchObject({ max_client_batch_size: 8, max_concurrent_requests: 2 });
    expect((await call(base, 'POST', '/embed', { inputs: Array.from({ length: 8 }, (_, i) => `text ${i}`) })).status).toBe(200);
  });

  it('more requests in flight than max_concurrent_requests → 429 + Retry-After; the rest succeed', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call<unknown>(base, 'POST', '/embed', { inputs: Array.from({ length: 8 }, (_, j) => `request ${i} sentence ${j} about nothing in particular`) }),
      ),
    );
    const rejected = answers.filter((answer) => answer.status === 429);
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length + answers.filter((answer) => answer.status === 200).length).toBe(12);
    for (const answer of rejected) {
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body).toMatchObject({ error_type: 'Overloaded', error: expect.stringContaining('EMBEDDER_MAX_CONCURRENT_REQUESTS') });
    }
  });
});
