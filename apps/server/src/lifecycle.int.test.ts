import { describe, expect, it } from 'vitest';
import { modelRoot } from '@embedder-rag/test-fixtures';
import { startServer } from './server';
import { call } from './test-helpers';

describe('lifecycle', () => {
  it('listens before the models load: /ready and /health are 503 until then, 200 after', async () => {
    let url: string | undefined;
    const early: Promise<{ ready: number; health: number; embed: number; readyBody: unknown }>[] = [];
    const starting = startServer({
      env: { EMBEDDER_MODEL_PATH: modelRoot() },
      overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent' },
      onListening: (address) => {
        url = address;
        early.push(
          (async () => {
            const [ready, health, embed] = await Promise.all([
              call(address, 'GET', '/ready'),
              call(address, 'GET', '/health'),
              call(address, 'POST', '/embed', { inputs: 'too early' }),
            ]);
            return { ready: ready.status, health: health.status, embed: embed.status, readyBody: ready.body };
          })(),
        );
      },
    });
    const server = await starting;
    try {
      const [during] = await Promise.all(early);
      expect(during).toEqual({ ready: 503, health: 503, embed: 503, readyBody: { error: 'not ready: loading', error_type: 'Unhealthy' } });
      expect(server.url).toBe(url);
      expect((await call(server.url, 'GET', '/ready')).status).toBe(200);
      expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('a model that cannot load fails startServer with the facade error and frees the port', async () => {
    let url: string | undefined;
    const failure = await startServer({
      env: { EMBEDDER_MODEL_PATH: modelRoot(), HF_HUB_OFFLINE: '1' },
      overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', models: ['no-such-model-anywhere'] },
      onListening: (address) => (url = address),
    }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'EmbedderError', code: 'MODEL_NOT_FOUND' });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
