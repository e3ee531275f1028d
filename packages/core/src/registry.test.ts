import { describe, expect, it } from 'vitest';
import type { Backend, BackendRegistration } from './backend';
import { isEmbedderError } from './errors';
import { BackendRegistry } from './registry';

/** A backend whose init succeeds or fails as told, counting how often it is created and initialised. */
function backend(name: string, priority: number, failWith?: string) {
  const calls = { create: 0, init: 0 };
  const registration: BackendRegistration = {
    name,
    priority,
    create: () => {
      calls.create++;
      const instance: Backend = {
        name,
        weightFiles: () => [],
        init: async () => {
          calls.init++;
          await new Promise((resolve) => setImmediate(resolve));
          if (failWith !== undefined) throw new Error(failWith);
        },
        createSession: () => Promise.reject(new Error('not used here')),
      };
      return instance;
    },
  };
  return { registration, calls };
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isEmbedderError(error)) throw new Error(`expected an EmbedderError, got ${String(error)}`);
  return error;
}

describe('BackendRegistry', () => {
  it('lists by priority and resolves the highest one that initialises, with no preference or "auto"', async () => {
    const low = backend('low', 1);
    const high = backend('high', 10, 'native library missing');
    const registry = new BackendRegistry().register(low.registration).register(high.registration);
    expect(registry.list().map((s) => [s.name, s.status])).toEqual([['high', 'not-initialised'], ['low', 'not-initialised']]);
    expect((await registry.resolve()).name).toBe('low');
    expect((await registry.resolve('auto')).name).toBe('low');
    expect(registry.list()).toEqual([
      { name: 'high', priority: 10, status: 'failed', error: 'native library missing' },
      { name: 'low', priority: 1, status: 'ready' },
    ]);
  });

  it('takes the first preferred name that works, in the order given', async () => {
    const a = backend('a', 5);
    const b = backend('b', 1);
    const registry = new BackendRegistry().register(a.registration).register(b.registration);
    expect((await registry.resolve(['b', 'a'])).name).toBe('b');
    expect(a.calls.create).toBe(0);
  });

  it('initialises a backend once for concurrent callers and never retries a failed one', async () => {
    const ok = backend('ok', 1);
    const broken = backend('broken', 2, 'no GPU');
    const registry = new BackendRegistry().register(ok.registration).register(broken.registration);
    const resolved = await Promise.all(Array.from({ length: 8 }, () => registry.resolve()));
    expect(new Set(resolved).size).toBe(1);
    expect(ok.calls).toEqual({ create: 1, init: 1 });
    await failure(registry.resolve('broken'));
    expect(broken.calls).toEqual({ create: 1, init: 1 });
  });

  it('fails with BACKEND_UNAVAILABLE naming each backend tried and why', async () => {
    const registry = new BackendRegistry().register(backend('tfjs', 1, 'tfjs-node not installed').registration);
    const error = await failure(registry.resolve(['onnx', 'tfjs']));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toBe('no backend could be initialised (onnx: not registered (registered: tfjs); tfjs: tfjs-node not installed)');
    expect((await failure(new BackendRegistry().resolve())).message).toBe('no backend is registered');
  });

  it('refuses a second registration of one name', () => {
    const registry = new BackendRegistry().register(backend('onnx', 1).registration);
    expect(() => registry.register(backend('onnx', 2).registration)).toThrow("backend 'onnx' is already registered");
  });
});
