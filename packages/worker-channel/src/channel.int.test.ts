import { afterEach, describe, expect, it } from 'vitest';
import { EmbedderError, isEmbedderError } from '@embedder-rag/core';
import { WorkerChannel, type ChannelOptions } from './channel';
import type { FixtureCalls, FixtureEvent, FixtureReady } from './fixture.worker';

// Real worker threads running fixture.worker.ts (which imports this package built: `pnpm build` first).
const script = new URL('./fixture.worker.ts', import.meta.url);
const started: WorkerChannel<FixtureCalls, FixtureReady, FixtureEvent>[] = [];

async function start(workerData: Record<string, unknown> = {}, options: Partial<ChannelOptions<FixtureEvent>> = {}) {
  const channel = await WorkerChannel.start<FixtureCalls, FixtureReady, FixtureEvent>(script, {
    name: 'the fixture worker',
    workerData,
    execArgv: [],
    ...options,
  });
  started.push(channel);
  return channel;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((channel) => channel.close()));
});

describe('WorkerChannel', () => {
  it('starts, answers calls, and delivers events in order with the answers', async () => {
    const events: FixtureEvent[] = [];
    const channel = await start({}, { onEvent: (event) => events.push(event) });
    expect(channel.ready).toEqual({ pid: process.pid, greeting: 'ready' });
    expect(channel.alive).toBe(true);
    expect(events).toEqual([{ type: 'loading' }]);
    const answers = await Promise.all([channel.call('echo', { a: 1 }), channel.call('echo', [1, 'two', null])]);
    expect(answers).toEqual([{ a: 1 }, [1, 'two', null]]);
    expect(events).toEqual([{ type: 'loading' }, { type: 'answering', op: 'echo' }, { type: 'answering', op: 'echo' }]);
    expect(channel.inFlight).toBe(0);
    // An event attached to an answer (one message) is delivered before the call settles.
    const attached = channel.call('echoAttached', 'x').then((value) => ({ value, seen: events.length }));
    expect(await attached).toEqual({ value: 'x', seen: 4 });
    expect(events[3]).toEqual({ type: 'answering', op: 'echoAttached' });
  });

  it('rejects with the typed error a handler throws (code, message, details) and keeps serving', async () => {
    const channel = await start();
    const error = await rejection(channel.call('fail', { code: 'INPUT_TOO_LONG', message: 'text 3 has 900 tokens', details: { index: 3, limit: 512 } }));
    expect(error).toBeInstanceOf(EmbedderError);
    expect(isEmbedderError(error, 'INPUT_TOO_LONG')).toBe(true);
    expect(error.message).toBe('text 3 has 900 tokens');
    expect((error as EmbedderError).details).toEqual({ index: 3, limit: 512 });
    expect(await channel.call('echo', 'still here')).toBe('still here');
    const unknown = await rejection(channel.call('nope' as 'echo', undefined));
    expect(isEmbedderError(unknown, 'UNSUPPORTED')).toBe(true);
    expect(unknown.message).toContain("no call 'nope'");
  });

  it('fails a start whose setup throws with that error, and one whose worker exits with BACKEND_UNAVAILABLE', async () => {
    const failed = await rejection(start({ failSetup: true }));
    expect(isEmbedderError(failed, 'MODEL_NOT_FOUND')).toBe(true);
    expect((failed as EmbedderError).details).toEqual({ looked: ['a', 'b'] });
    const exited = await rejection(start({ exitInSetup: 3 }));
    expect(isEmbedderError(exited, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect(exited.message).toBe('the fixture worker exited with code 3 while loading');
  });

  it('moves Float32Array results and payloads instead of copying them', async () => {
    const channel = await start();
    const values = Float32Array.from([1, 2, 3, 0.5]);
    const squared = await channel.call('square', { values });
    expect(squared).toBeInstanceOf(Float32Array);
    expect([...squared]).toEqual([1, 4, 9, 0.25]);
    // The worker's array was detached by the move: no copy stayed behind.
    expect(await channel.call('lastSentBytes', undefined)).toBe(0);
    // Not listed for transfer, the payload was copied: still usable here.
    expect(values.byteLength).toBe(16);
    const moved = Float32Array.from([1, 2, 3]);
    expect(await channel.call('sum', { values: moved }, { transfer: [moved.buffer] })).toBe(6);
    expect(moved.byteLength).toBe(0);
  });

  it('fails a call whose result cannot be cloned instead of never answering it, and one whose payload cannot', async () => {
    const channel = await start();
    const result = await rejection(channel.call('uncloneable', undefined));
    expect(result.message).toMatch(/could not be cloned/);
    const payload = await rejection(channel.call('echo', { callback: () => 1 }));
    expect(payload.message).toMatch(/could not be cloned/);
    expect(channel.inFlight).toBe(0);
    expect(await channel.call('echo', 1)).toBe(1);
  });

  it('sends the answers that settle in the same turn of the worker in one message, each to its own call', async () => {
    const channel = await start();
    const before = channel.messagesReceived;
    const values = [1, 'two', { three: 3 }, [4], null, 6, 7, 8];
    const answers = await Promise.all(values.map((value) => channel.call('together', { count: values.length, value })));
    expect(answers).toEqual(values);
    expect(channel.messagesReceived - before).toBe(1);
    // One that cannot be cloned fails alone; the others still get their answers.
    const mixed = await Promise.allSettled([
      channel.call('together', { count: 3, value: 'a' }),
      channel.call('together', { count: 3, value: 'uncloneable' }),
      channel.call('together', { count: 3, value: 'c' }),
    ]);
    expect(mixed[0]).toEqual({ status: 'fulfilled', value: 'a' });
    expect(mixed[2]).toEqual({ status: 'fulfilled', value: 'c' });
    expect(mixed[1]!.status).toBe('rejected');
    expect(((mixed[1] as PromiseRejectedResult).reason as Error).message).toMatch(/could not be cloned/);
  });

  it('cancels a call: the handler sees the abort and its rejection carries the reason', async () => {
    const channel = await start();
    const controller = new AbortController();
    const call = channel.call('untilAborted', undefined, { signal: controller.signal });
    controller.abort(new DOMException('client disconnected', 'AbortError'));
    const error = await rejection(call);
    expect(error.name).toBe('AbortError');
    expect(error.message).toBe('client disconnected');
    const early = await rejection(channel.call('untilAborted', undefined, { signal: AbortSignal.abort() }));
    expect(early.name).toBe('AbortError');
    expect(channel.inFlight).toBe(0);
  });

  it('fails every call in flight with DISPOSED when the worker crashes mid-call, and every later call', async () => {
    const errors: Error[] = [];
    const channel = await start({}, { onError: (error) => errors.push(error) });
    const inFlight = [channel.call('never', undefined), channel.call('untilAborted', undefined), channel.call('crash', { message: 'worker blew up' })];
    const failures = await Promise.all(inFlight.map(rejection));
    for (const failure of failures) {
      expect(isEmbedderError(failure, 'DISPOSED')).toBe(true);
      expect(failure.message).toBe('the fixture worker has stopped (exit code 1): worker blew up');
      expect((failure as EmbedderError).details).toEqual({ exitCode: 1, error: 'worker blew up' });
    }
    expect(errors.map((error) => error.message)).toEqual(['worker blew up']);
    expect(channel.alive).toBe(false);
    expect(channel.inFlight).toBe(0);
    expect(isEmbedderError(await rejection(channel.call('echo', 1)), 'DISPOSED')).toBe(true);
  });

  it('fails the calls in flight of a worker that exits, naming its exit code', async () => {
    const channel = await start();
    const pending = channel.call('never', undefined);
    const exit = channel.call('exit', { code: 7 });
    for (const failure of await Promise.all([rejection(pending), rejection(exit)])) {
      expect(isEmbedderError(failure, 'DISPOSED')).toBe(true);
      expect(failure.message).toBe('the fixture worker has stopped (exit code 7)');
    }
  });

  it('close() fails the calls in flight with DISPOSED, refuses new ones, and can be called twice', async () => {
    const channel = await start();
    const inFlight = [channel.call('never', undefined), channel.call('never', undefined), channel.call('untilAborted', undefined)];
    expect(channel.inFlight).toBe(3);
    await Promise.all([channel.close(), channel.close()]);
    for (const failure of await Promise.all(inFlight.map(rejection))) {
      expect(isEmbedderError(failure, 'DISPOSED')).toBe(true);
      expect(failure.message).toBe('the fixture worker was closed');
    }
    expect(channel.alive).toBe(false);
    expect(isEmbedderError(await rejection(channel.call('echo', 1)), 'DISPOSED')).toBe(true);
    await channel.close();
  });
});
