import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalid, operationsOf, valid, type Operation } from './openapi-arbitrary';
import type { RunningServer } from './server';
import { call, startTestServer, type Answer } from './test-helpers';

/** Requests per route and kind (valid / invalid / raw); small so CI stays quick, the seed is printed on failure. */
const RUNS = Number(process.env.EMBEDDER_FUZZ_RUNS ?? 25);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** No answer is a 5xx, and every error answers a JSON body with a message (TEI or OpenAI shape). */
function expectHandled(answer: Answer, sent: unknown): void {
  const context = `${answer.status} ${answer.text.slice(0, 300)} for ${JSON.stringify(sent)?.slice(0, 300)}`;
  expect(answer.status, context).toBeLessThan(500);
  if (answer.status >= 400) {
    expect(answer.headers.get('content-type'), context).toContain('application/json');
    const body = answer.body as { error?: unknown; message?: unknown };
    expect(typeof (body.error ?? body.message), context).toBe('string');
  }
}

/** Every route of the server's own OpenAPI document, fuzzed with bodies generated from its schemas. */
describe('route fuzzer (from /openapi.json)', () => {
  let server: RunningServer;
  let document: Parameters<typeof operationsOf>[0];
  let operations: Operation[];
  beforeAll(async () => {
    server = await startTestServer();
    document = (await call<typeof document>(server.url, 'GET', '/openapi.json')).body;
    operations = operationsOf(document);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('documents every route the fuzzer walks', () => {
    const routes = operations.map((operation) => `${operation.method} ${operation.path}`);
    expect(routes).toEqual(expect.arrayContaining(['POST /embed', 'POST /v1/embeddings', 'POST /decode', 'POST /tokenize', 'POST /similarity', 'GET /info']));
  });

  it('valid and invalid bodies: no 5xx, JSON errors', async () => {
    for (const operation of operations.filter((entry) => entry.body !== undefined)) {
      const bodies = fc.oneof(valid(operation.body!, document), invalid(operation.body!, document));
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => expectHandled(await call(server.url, operation.method, operation.path, JSON.stringify(body)), body)),
        { numRuns: RUNS * 2 },
      );
    }
  });

  it('bodies that are not JSON, or JSON of the wrong content type: no 5xx', async () => {
    const raw = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('{', '[]', 'null', '{"inputs": }'));
    for (const operation of operations.filter((entry) => entry.body !== undefined)) {
      await fc.assert(
        fc.asyncProperty(raw, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (text, type) => {
          expectHandled(await call(server.url, operation.method, operation.path, text, { 'content-type': type }), text);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('query parameters of any value: no 5xx', async () => {
    for (const operation of operations.filter((entry) => entry.query.length > 0)) {
      const query = fc.record(Object.fromEntries(operation.query.map((parameter) => [parameter.name, fc.string({ unit: 'binary', maxLength: 20 })])), {
        requiredKeys: [],
      });
      await fc.assert(
        fc.asyncProperty(query, async (values) => {
          const search = new URLSearchParams(values as Record<string, string>).toString();
          expectHandled(await call(server.url, operation.method, `${operation.path}?${search}`), values);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('a documented path with a method it lacks answers 405 with an Allow header listing the ones it has', async () => {
    const byPath = new Map<string, Set<string>>();
    for (const operation of operations) byPath.set(operation.path, (byPath.get(operation.path) ?? new Set()).add(operation.method));
    for (const [path, methods] of byPath) {
      for (const method of METHODS.filter((entry) => !methods.has(entry))) {
        const answer = await call<{ error?: string; message?: string }>(server.url, method, path, method === 'GET' ? undefined : '{}');
        expect(answer.status, `${method} ${path}`).toBe(405);
        const allow = (answer.headers.get('allow') ?? '').split(', ');
        for (const documented of methods) expect(allow, `${method} ${path}`).toContain(documented);
        expect(answer.body.error ?? answer.body.message).toContain('not allowed');
      }
    }
    expect((await call(server.url, 'GET', '/no-such-route')).status).toBe(404);
  });
});
